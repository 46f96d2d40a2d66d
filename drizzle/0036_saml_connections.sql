CREATE TABLE `saml_assertions` (
	`id_hash` char(64) NOT NULL,
	`connection_id` varchar(40) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `saml_assertions_id_hash` PRIMARY KEY(`id_hash`)
);
--> statement-breakpoint
ALTER TABLE `sso_connections` MODIFY COLUMN `client_id` varchar(255);--> statement-breakpoint
ALTER TABLE `sso_connections` MODIFY COLUMN `scopes` varchar(1024);--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `saml_profile_sealed` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_sso_url` varchar(2048);--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_certificates` text;--> statement-breakpoint
ALTER TABLE `sso_connections` ADD `saml_email_attribute` varchar(255);--> statement-breakpoint
CREATE INDEX `saml_assertions_expires_idx` ON `saml_assertions` (`expires_at`);--> statement-breakpoint
-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so hashes and ids compare byte for byte.
ALTER TABLE `saml_assertions` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
