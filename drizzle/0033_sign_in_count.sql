ALTER TABLE `users` ADD `last_sign_in_at` datetime(3);--> statement-breakpoint
ALTER TABLE `users` ADD `sign_in_count` int DEFAULT 0 NOT NULL;