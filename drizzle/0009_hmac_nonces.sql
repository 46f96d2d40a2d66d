CREATE TABLE `hmac_nonces` (
	`key_id` varchar(64) NOT NULL,
	`nonce_hash` char(64) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `hmac_nonces_pk` PRIMARY KEY(`key_id`,`nonce_hash`)
);
--> statement-breakpoint
CREATE INDEX `hmac_nonces_expires_idx` ON `hmac_nonces` (`expires_at`);