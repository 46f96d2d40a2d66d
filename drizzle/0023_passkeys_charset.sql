-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so credential ids
-- and challenges compare byte for byte.
ALTER TABLE `passkeys` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;--> statement-breakpoint
ALTER TABLE `webauthn_ceremonies` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
