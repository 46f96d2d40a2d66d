DROP INDEX `refresh_tokens_session_idx` ON `refresh_tokens`;--> statement-breakpoint
CREATE INDEX `refresh_tokens_session_created_idx` ON `refresh_tokens` (`session_id`,`created_at`);