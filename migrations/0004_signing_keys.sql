CREATE TABLE `signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`x` text NOT NULL,
	`private_key` text,
	`created_at` integer NOT NULL,
	`retired_at` integer,
	`publish_until` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signing_keys_one_active` ON `signing_keys` (("retired_at" IS NULL)) WHERE retired_at IS NULL;--> statement-breakpoint
ALTER TABLE `requests` ADD `approval_token` text;--> statement-breakpoint
CREATE INDEX `requests_approved_without_token` ON `requests` (`id`) WHERE status = 'approved' AND approval_token IS NULL;