-- Issue #14: the desk's outbound figures count agents' replies and outbound calls by the time
-- they were made; without these a period's count reads every message and every call.
-- In step with the other backend's 0029_outbound_indexes.sql.
CREATE INDEX ticket_messages_replies ON ticket_messages(created_at) WHERE kind = 'reply';
CREATE INDEX calls_started ON calls(started_at);
