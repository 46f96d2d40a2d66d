CREATE TABLE `scim_group_members` (
	`group_id` varchar(40) NOT NULL,
	`scim_user_id` varchar(40) NOT NULL,
	`organization_id` varchar(40) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `scim_group_members_pk` PRIMARY KEY(`group_id`,`scim_user_id`)
);
--> statement-breakpoint
CREATE TABLE `scim_groups` (
	`id` varchar(40) NOT NULL,
	`organization_id` varchar(40) NOT NULL,
	`display_name` varchar(255) NOT NULL,
	`display_name_normalized` varchar(255) NOT NULL,
	`external_id` varchar(255),
	`version` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `scim_groups_id` PRIMARY KEY(`id`),
	CONSTRAINT `scim_groups_org_name_uq` UNIQUE(`organization_id`,`display_name_normalized`)
);
--> statement-breakpoint
CREATE TABLE `scim_role_mappings` (
	`organization_id` varchar(40) NOT NULL,
	`display_name` varchar(255) NOT NULL,
	`display_name_normalized` varchar(255) NOT NULL,
	`role` varchar(16) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `scim_role_mappings_pk` PRIMARY KEY(`organization_id`,`display_name_normalized`)
);
--> statement-breakpoint
CREATE TABLE `scim_tokens` (
	`id` varchar(40) NOT NULL,
	`organization_id` varchar(40) NOT NULL,
	`name` varchar(100) NOT NULL,
	`prefix` varchar(16) NOT NULL,
	`token_hash` char(64) NOT NULL,
	`created_by` varchar(40) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3),
	`revoked_at` datetime(3),
	CONSTRAINT `scim_tokens_id` PRIMARY KEY(`id`),
	CONSTRAINT `scim_tokens_hash_uq` UNIQUE(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `scim_users` (
	`id` varchar(40) NOT NULL,
	`organization_id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`external_id` varchar(255),
	`user_name` varchar(254) NOT NULL,
	`user_name_normalized` varchar(254) NOT NULL,
	`active` boolean NOT NULL,
	`account_disabled` boolean NOT NULL DEFAULT false,
	`attributes` json NOT NULL,
	`version` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `scim_users_id` PRIMARY KEY(`id`),
	CONSTRAINT `scim_users_org_user_uq` UNIQUE(`organization_id`,`user_id`),
	CONSTRAINT `scim_users_org_user_name_uq` UNIQUE(`organization_id`,`user_name_normalized`)
);
--> statement-breakpoint
CREATE INDEX `scim_group_members_user_idx` ON `scim_group_members` (`scim_user_id`);--> statement-breakpoint
CREATE INDEX `scim_tokens_org_idx` ON `scim_tokens` (`organization_id`);--> statement-breakpoint
CREATE INDEX `scim_users_org_external_idx` ON `scim_users` (`organization_id`,`external_id`);--> statement-breakpoint
-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so ids and hashes compare byte for byte.
ALTER TABLE `scim_tokens` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `scim_users` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `scim_groups` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `scim_group_members` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `scim_role_mappings` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
