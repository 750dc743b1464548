-- Earlier versions marked "escalation due but nobody to escalate to" with an empty
-- escalated_to. That case now only clears escalate_at; nobody was escalated to.
UPDATE `requests` SET `escalated_to` = NULL, `escalated_at` = NULL WHERE `escalated_to` = '';
