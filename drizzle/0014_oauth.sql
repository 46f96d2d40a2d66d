CREATE TABLE `oauth_accounts` (
	`provider` varchar(32) NOT NULL,
	`subject` varchar(255) NOT NULL,
	`user_id` varchar(40) NOT NULL,
	`email` varchar(254),
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3),
	CONSTRAINT `oauth_accounts_pk` PRIMARY KEY(`provider`,`subject`),
	CONSTRAINT `oauth_accounts_user_provider_uq` UNIQUE(`user_id`,`provider`)
);
--> statement-breakpoint
CREATE TABLE `oauth_link_tokens` (
	`token_hash` char(64) NOT NULL,
	`provider` varchar(32) NOT NULL,
	`subject` varchar(255) NOT NULL,
	`email` varchar(254),
	`user_id` varchar(40),
	`canary_hash` char(64),
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	CONSTRAINT `oauth_link_tokens_token_hash` PRIMARY KEY(`token_hash`)
);
--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`state_hash` char(64) NOT NULL,
	`provider` varchar(32) NOT NULL,
	`code_verifier_sealed` varchar(255) NOT NULL,
	`nonce` varchar(64),
	`return_to` varchar(2048),
	`canary_hash` char(64),
	`created_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`used_at` datetime(3),
	CONSTRAINT `oauth_states_state_hash` PRIMARY KEY(`state_hash`)
);
--> statement-breakpoint
CREATE INDEX `oauth_link_tokens_expires_idx` ON `oauth_link_tokens` (`expires_at`);--> statement-breakpoint
CREATE INDEX `oauth_states_expires_idx` ON `oauth_states` (`expires_at`);