-- Issue #14: the open tickets by time, for the desk's "all open" and "SLA breached" views, and
-- tickets by resolution time for the period figures:
-- at a million tickets the open ones are a few percent, and without this index the breached
-- view walked every ticket by creation time. In step with the other backend's 0027.
CREATE INDEX tickets_open_created ON tickets(created_at)
    WHERE status IN ('new', 'open', 'pending_customer', 'pending_internal');
CREATE INDEX tickets_resolved ON tickets(resolved_at) WHERE resolved_at IS NOT NULL;
