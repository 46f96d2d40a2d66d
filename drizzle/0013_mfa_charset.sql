-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so user ids,
-- code and token hashes and action names compare byte for byte.
ALTER TABLE `totp_credentials` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `backup_codes` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `step_up_tokens` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
