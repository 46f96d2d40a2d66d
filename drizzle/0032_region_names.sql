ALTER TABLE `devices` MODIFY COLUMN `region` varchar(100);--> statement-breakpoint
ALTER TABLE `sessions` MODIFY COLUMN `region` varchar(100);