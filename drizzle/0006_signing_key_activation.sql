DROP INDEX `signing_keys_created_idx` ON `signing_keys`;--> statement-breakpoint
ALTER TABLE `signing_keys` ADD `activates_at` datetime(3);--> statement-breakpoint
CREATE INDEX `signing_keys_activates_idx` ON `signing_keys` (`activates_at`);