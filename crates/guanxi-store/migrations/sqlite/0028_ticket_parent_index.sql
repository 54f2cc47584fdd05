-- Issue #14: tickets by the ticket they continue. First-contact resolution asks, for every
-- resolved ticket of a period, whether a later ticket continued it; at a million tickets that
-- was a scan per resolved ticket. In step with the other backend's 0028.
CREATE INDEX tickets_parent ON tickets(parent_id) WHERE parent_id IS NOT NULL;
