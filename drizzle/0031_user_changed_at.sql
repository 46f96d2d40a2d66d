-- Stamped by the database on every change of the row, with the column's own precision (drizzle-kit writes ON UPDATE CURRENT_TIMESTAMP, which MySQL refuses on a TIMESTAMP(3)).
ALTER TABLE `users` ADD `changed_at` timestamp(3) DEFAULT CURRENT_TIMESTAMP(3) NOT NULL ON UPDATE CURRENT_TIMESTAMP(3);--> statement-breakpoint
CREATE INDEX `users_changed_at_idx` ON `users` (`changed_at`);
