ALTER TABLE `devices` ADD `country` varchar(2);--> statement-breakpoint
ALTER TABLE `devices` ADD `region` varchar(8);--> statement-breakpoint
ALTER TABLE `devices` ADD `city` varchar(100);--> statement-breakpoint
ALTER TABLE `devices` ADD `network` varchar(64);--> statement-breakpoint
ALTER TABLE `devices` ADD `asn` int;--> statement-breakpoint
ALTER TABLE `devices` ADD `last_latitude` double;--> statement-breakpoint
ALTER TABLE `devices` ADD `last_longitude` double;--> statement-breakpoint
ALTER TABLE `devices` ADD `last_located_at` datetime(3);--> statement-breakpoint
ALTER TABLE `sessions` ADD `country` varchar(2);--> statement-breakpoint
ALTER TABLE `sessions` ADD `region` varchar(8);--> statement-breakpoint
ALTER TABLE `sessions` ADD `city` varchar(100);--> statement-breakpoint
ALTER TABLE `sessions` ADD `last_verdict` json;