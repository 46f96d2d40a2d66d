CREATE TABLE `api_keys` (
	`id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`name` varchar(100) NOT NULL,
	`prefix` varchar(16) NOT NULL,
	`key_hash` char(64) NOT NULL,
	`scopes` json NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3),
	`expires_at` datetime(3),
	`revoked_at` datetime(3),
	CONSTRAINT `api_keys_id` PRIMARY KEY(`id`),
	CONSTRAINT `api_keys_hash_uq` UNIQUE(`key_hash`)
);
--> statement-breakpoint
ALTER TABLE `audit_events` ADD `actor_id` varchar(40);--> statement-breakpoint
ALTER TABLE `outbox_messages` ADD `ordering_key` varchar(120);--> statement-breakpoint
ALTER TABLE `users` ADD `disabled_at` datetime(3);--> statement-breakpoint
ALTER TABLE `users` ADD `disabled_reason` varchar(200);--> statement-breakpoint
CREATE INDEX `api_keys_user_idx` ON `api_keys` (`user_id`);--> statement-breakpoint
CREATE INDEX `audit_events_ip_idx` ON `audit_events` (`ip`,`created_at`);--> statement-breakpoint
CREATE INDEX `outbox_messages_ordering_idx` ON `outbox_messages` (`ordering_key`,`created_at`);