CREATE TABLE `passkeys` (
	`id` varchar(40) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`credential_id` varchar(512) NOT NULL,
	`public_key` varchar(2048) NOT NULL,
	`counter` bigint NOT NULL,
	`transports` json,
	`device_type` varchar(16) NOT NULL,
	`backed_up` boolean NOT NULL,
	`name` varchar(100) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3),
	CONSTRAINT `passkeys_id` PRIMARY KEY(`id`),
	CONSTRAINT `passkeys_credential_uq` UNIQUE(`credential_id`)
);
--> statement-breakpoint
CREATE TABLE `webauthn_ceremonies` (
	`id` varchar(40) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`user_id` varchar(40),
	`challenge` varchar(128) NOT NULL,
	`canary_hash` char(64),
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`consumed_at` datetime(3),
	CONSTRAINT `webauthn_ceremonies_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `passkeys_user_idx` ON `passkeys` (`user_id`);--> statement-breakpoint
CREATE INDEX `webauthn_ceremonies_expires_idx` ON `webauthn_ceremonies` (`expires_at`);--> statement-breakpoint
CREATE INDEX `webauthn_ceremonies_challenge_idx` ON `webauthn_ceremonies` (`challenge`);