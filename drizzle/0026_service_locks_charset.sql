-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql).
ALTER TABLE `service_locks` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
--> statement-breakpoint
-- The lock rows exist from the start, so taking a lock is an update of an existing row.
INSERT INTO `service_locks` (`name`, `taken_at`) VALUES ('signing_keys', UTC_TIMESTAMP(3));
