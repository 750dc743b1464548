DROP INDEX `requests_agent_created`;--> statement-breakpoint
DROP INDEX `requests_agent_idempotency_key`;--> statement-breakpoint
CREATE UNIQUE INDEX `requests_agent_idempotency_key` ON `requests` (`agent`,`idempotency_key`) WHERE idempotency_key IS NOT NULL;