CREATE TABLE `organization_domains` (
	`organization_id` varchar(40) NOT NULL,
	`domain` varchar(253) NOT NULL,
	`txt_value` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`verified_at` datetime(3),
	`verified_domain` varchar(253),
	CONSTRAINT `organization_domains_pk` PRIMARY KEY(`organization_id`,`domain`),
	CONSTRAINT `organization_domains_verified_uq` UNIQUE(`verified_domain`)
);
--> statement-breakpoint
CREATE TABLE `sso_connections` (
	`id` varchar(40) NOT NULL,
	`organization_id` varchar(40) NOT NULL,
	`type` varchar(16) NOT NULL,
	`issuer` varchar(2048) NOT NULL,
	`client_id` varchar(255) NOT NULL,
	`client_secret_sealed` varchar(1024),
	`scopes` varchar(1024) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `sso_connections_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `organizations` ADD `require_sso` boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `sso_connections_org_idx` ON `sso_connections` (`organization_id`);--> statement-breakpoint
-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so ids and domains compare byte for byte.
ALTER TABLE `sso_connections` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `organization_domains` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
