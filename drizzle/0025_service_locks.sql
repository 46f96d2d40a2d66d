CREATE TABLE `service_locks` (
	`name` varchar(64) NOT NULL,
	`taken_at` datetime(3) NOT NULL,
	CONSTRAINT `service_locks_name` PRIMARY KEY(`name`)
);
