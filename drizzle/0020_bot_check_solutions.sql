CREATE TABLE `bot_check_solutions` (
	`challenge_hash` char(64) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `bot_check_solutions_challenge_hash` PRIMARY KEY(`challenge_hash`)
);
--> statement-breakpoint
CREATE INDEX `bot_check_solutions_expires_idx` ON `bot_check_solutions` (`expires_at`);