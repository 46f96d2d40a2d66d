CREATE TABLE `backup_codes` (
	`user_id` varchar(40) NOT NULL,
	`code_hash` char(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	CONSTRAINT `backup_codes_pk` PRIMARY KEY(`user_id`,`code_hash`)
);
--> statement-breakpoint
CREATE TABLE `step_up_tokens` (
	`token_hash` char(64) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`session_id` varchar(40) NOT NULL,
	`action` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	CONSTRAINT `step_up_tokens_token_hash` PRIMARY KEY(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `totp_credentials` (
	`user_id` varchar(40) NOT NULL,
	`secret_sealed` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`confirmed_at` datetime(3),
	`last_used_step` int,
	`failed_attempts` smallint NOT NULL,
	`last_failed_at` datetime(3),
	CONSTRAINT `totp_credentials_user_id` PRIMARY KEY(`user_id`)
);
--> statement-breakpoint
ALTER TABLE `users` ADD `totp_enabled_at` datetime(3);--> statement-breakpoint
CREATE INDEX `step_up_tokens_user_expires_idx` ON `step_up_tokens` (`user_id`,`expires_at`);