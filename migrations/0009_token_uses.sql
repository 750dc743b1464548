CREATE TABLE `token_uses` (
	`jti` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`request_id` text,
	`agent` text NOT NULL,
	`at` integer NOT NULL
);
