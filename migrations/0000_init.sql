CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text,
	`at` integer NOT NULL,
	`event` text NOT NULL,
	`actor` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_request` ON `audit_log` (`request_id`,`id`);--> statement-breakpoint
CREATE TABLE `callbacks` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`agent` text NOT NULL,
	`url` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_status` integer,
	`last_error` text,
	`delivered_at` integer,
	`failed_at` integer
);
--> statement-breakpoint
CREATE INDEX `callbacks_due` ON `callbacks` (`next_attempt_at`) WHERE delivered_at IS NULL AND failed_at IS NULL;--> statement-breakpoint
CREATE INDEX `callbacks_request` ON `callbacks` (`request_id`);--> statement-breakpoint
CREATE TABLE `decisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`approver_id` text NOT NULL,
	`approver_name` text,
	`decision` text NOT NULL,
	`comment` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_request_approver` ON `decisions` (`request_id`,`approver_id`);--> statement-breakpoint
CREATE TABLE `requests` (
	`id` text PRIMARY KEY NOT NULL,
	`agent` text NOT NULL,
	`status` text NOT NULL,
	`resolution` text,
	`action` text NOT NULL,
	`summary` text NOT NULL,
	`target` text,
	`params` text NOT NULL,
	`reason` text,
	`risk` text,
	`evidence` text NOT NULL,
	`run_id` text,
	`on_behalf_of` text,
	`callback_url` text,
	`args_hash` text NOT NULL,
	`policy` text NOT NULL,
	`role` text,
	`approvals_required` integer NOT NULL,
	`ttl_ms` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`remind_at` integer,
	`escalate_at` integer,
	`escalated_at` integer,
	`escalated_to` text,
	`decided_at` integer,
	`outcome` text,
	`slack_channel` text,
	`slack_ts` text,
	`dm_channel` text,
	`dm_ts` text,
	`idempotency_key` text,
	`body_hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `requests_agent_idempotency_key` ON `requests` (`agent`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `requests_agent_created` ON `requests` (`agent`,`created_at`);--> statement-breakpoint
CREATE INDEX `requests_pending_expires` ON `requests` (`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `requests_pending_escalate` ON `requests` (`escalate_at`) WHERE status = 'pending' AND escalate_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `requests_pending_remind` ON `requests` (`remind_at`) WHERE status = 'pending' AND remind_at IS NOT NULL;--> statement-breakpoint
CREATE TABLE `slack_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `slack_outbox_request` ON `slack_outbox` (`request_id`,`id`);--> statement-breakpoint
CREATE INDEX `slack_outbox_due` ON `slack_outbox` (`next_attempt_at`);