CREATE TABLE `channel_pauses` (
	`channel` text PRIMARY KEY NOT NULL,
	`until` integer NOT NULL,
	`paced_until` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `job_ticks` (
	`name` text PRIMARY KEY NOT NULL,
	`tick` integer NOT NULL
);
