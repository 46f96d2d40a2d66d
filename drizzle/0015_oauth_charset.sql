-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so provider
-- subjects, user ids and state and token hashes compare byte for byte.
ALTER TABLE `oauth_accounts` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `oauth_link_tokens` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `oauth_states` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
