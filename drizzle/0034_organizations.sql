CREATE TABLE `organization_invitations` (
	`id` varchar(40) NOT NULL,
	`organization_id` varchar(40) NOT NULL,
	`email` varchar(254) NOT NULL,
	`email_normalized` varchar(254) NOT NULL,
	`role` varchar(16) NOT NULL,
	`invited_by` varchar(40) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`accepted_at` datetime(3),
	`revoked_at` datetime(3),
	CONSTRAINT `organization_invitations_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `organization_members` (
	`organization_id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`role` varchar(16) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `organization_members_pk` PRIMARY KEY(`organization_id`,`user_id`)
);
--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` varchar(40) NOT NULL,
	`name` varchar(100) NOT NULL,
	`slug` varchar(48) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `organizations_id` PRIMARY KEY(`id`),
	CONSTRAINT `organizations_slug_uq` UNIQUE(`slug`)
);
--> statement-breakpoint
ALTER TABLE `audit_events` ADD `organization_id` varchar(40);--> statement-breakpoint
ALTER TABLE `sessions` ADD `active_organization_id` varchar(40);--> statement-breakpoint
CREATE INDEX `organization_invitations_org_email_idx` ON `organization_invitations` (`organization_id`,`email_normalized`);--> statement-breakpoint
CREATE INDEX `organization_members_user_idx` ON `organization_members` (`user_id`);--> statement-breakpoint
CREATE INDEX `audit_events_organization_idx` ON `audit_events` (`organization_id`,`created_at`,`id`);--> statement-breakpoint
-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so ids, slugs and normalised addresses compare byte for byte.
ALTER TABLE `organizations` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `organization_members` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `organization_invitations` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
