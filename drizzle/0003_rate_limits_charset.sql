-- Like every table: utf8mb4 with a binary collation (see 0001_charset.sql).
ALTER TABLE `rate_limits` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
