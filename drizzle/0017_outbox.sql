CREATE TABLE `outbox_messages` (
	`id` varchar(40) NOT NULL,
	`kind` varchar(16) NOT NULL,
	`user_id` varchar(40),
	`payload` json NOT NULL,
	`state` varchar(16) NOT NULL,
	`attempts` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`available_at` datetime(3) NOT NULL,
	`delivered_at` datetime(3),
	`last_error` varchar(512),
	CONSTRAINT `outbox_messages_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `outbox_messages_state_available_idx` ON `outbox_messages` (`state`,`available_at`);--> statement-breakpoint
CREATE INDEX `outbox_messages_user_idx` ON `outbox_messages` (`user_id`);