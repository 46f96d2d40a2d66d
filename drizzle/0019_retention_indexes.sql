CREATE INDEX `audit_events_created_at_idx` ON `audit_events` (`created_at`);--> statement-breakpoint
CREATE INDEX `challenges_expires_at_idx` ON `challenges` (`expires_at`);--> statement-breakpoint
CREATE INDEX `links_expires_at_idx` ON `links` (`expires_at`);--> statement-breakpoint
CREATE INDEX `devices_last_seen_at_idx` ON `devices` (`last_seen_at`);--> statement-breakpoint
CREATE INDEX `step_up_tokens_expires_at_idx` ON `step_up_tokens` (`expires_at`);--> statement-breakpoint
CREATE INDEX `sessions_expires_at_idx` ON `sessions` (`expires_at`);