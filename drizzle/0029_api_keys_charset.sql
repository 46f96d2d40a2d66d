-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql), so key hashes compare byte for byte.
ALTER TABLE `api_keys` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
