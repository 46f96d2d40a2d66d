CREATE TABLE `audit_events` (
	`id` varchar(40) NOT NULL,
	`type` varchar(64) NOT NULL,
	`user_id` varchar(40),
	`session_id` varchar(40),
	`ip` varchar(45),
	`user_agent` varchar(512),
	`data` json,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `audit_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `challenges` (
	`id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`purpose` varchar(32) NOT NULL,
	`code_hash` char(64) NOT NULL,
	`attempts` tinyint NOT NULL,
	`resends` tinyint NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`consumed_at` datetime(3),
	`data` json,
	CONSTRAINT `challenges_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `links` (
	`id` varchar(40) NOT NULL,
	`token_hash` char(64) NOT NULL,
	`purpose` varchar(32) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`challenge_id` varchar(40),
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	`data` json,
	CONSTRAINT `links_id` PRIMARY KEY(`id`),
	CONSTRAINT `links_token_hash_uq` UNIQUE(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `devices` (
	`id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`canary_hash` char(64) NOT NULL,
	`user_agent` varchar(512),
	`browser` varchar(64),
	`os` varchar(64),
	`device_type` varchar(16) NOT NULL,
	`last_ip` varchar(45),
	`created_at` datetime(3) NOT NULL,
	`last_seen_at` datetime(3) NOT NULL,
	`trusted_at` datetime(3),
	CONSTRAINT `devices_id` PRIMARY KEY(`id`),
	CONSTRAINT `devices_user_canary_uq` UNIQUE(`user_id`,`canary_hash`)
);
--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`id` varchar(40) NOT NULL,
	`session_id` varchar(40) NOT NULL,
	`token_hash` char(64) NOT NULL,
	`parent_id` varchar(40),
	`generation` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	`successor_sealed` varchar(255),
	CONSTRAINT `refresh_tokens_id` PRIMARY KEY(`id`),
	CONSTRAINT `refresh_tokens_hash_uq` UNIQUE(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`device_id` varchar(40) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`revoked_at` datetime(3),
	`revoked_reason` varchar(32),
	`ip` varchar(45),
	`user_agent` varchar(512),
	`browser` varchar(64),
	`os` varchar(64),
	`device_type` varchar(16) NOT NULL,
	CONSTRAINT `sessions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`id` varchar(40) NOT NULL,
	`alg` varchar(16) NOT NULL,
	`public_jwk` json NOT NULL,
	`private_key_sealed` text NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`retired_at` datetime(3),
	`expires_at` datetime(3),
	CONSTRAINT `signing_keys_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` varchar(40) NOT NULL,
	`email` varchar(254) NOT NULL,
	`email_normalized` varchar(254) NOT NULL,
	`email_verified_at` datetime(3),
	`name` varchar(100),
	`password_hash` varchar(255),
	`roles` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `users_email_normalized_uq` UNIQUE(`email_normalized`)
);
--> statement-breakpoint
CREATE INDEX `audit_events_user_idx` ON `audit_events` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_events_session_idx` ON `audit_events` (`session_id`);--> statement-breakpoint
CREATE INDEX `challenges_user_purpose_idx` ON `challenges` (`user_id`,`purpose`);--> statement-breakpoint
CREATE INDEX `links_user_purpose_idx` ON `links` (`user_id`,`purpose`);--> statement-breakpoint
CREATE INDEX `devices_user_idx` ON `devices` (`user_id`,`last_seen_at`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_session_idx` ON `refresh_tokens` (`session_id`);--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`,`revoked_at`);--> statement-breakpoint
CREATE INDEX `sessions_revoked_at_idx` ON `sessions` (`revoked_at`);--> statement-breakpoint
CREATE INDEX `signing_keys_created_idx` ON `signing_keys` (`created_at`);