-- Issue #14: an agent's own tickets over a period (what their figures count live beside the
-- rollup's cells) as one index range each, opened and resolved, instead of every ticket
-- they ever held.
CREATE INDEX tickets_assignee_created ON tickets(assignee_id, created_at);
CREATE INDEX tickets_assignee_resolved ON tickets(assignee_id, resolved_at) WHERE resolved_at IS NOT NULL;
