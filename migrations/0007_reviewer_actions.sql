ALTER TABLE `decisions` ADD `args_hash` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `approved_params` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `approved_args_hash` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `edited_by` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `revises` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `revised_by` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `slack_thread_ts` text;--> statement-breakpoint
CREATE INDEX `requests_agent_action_created` ON `requests` (`agent`,`action`,`created_at`);