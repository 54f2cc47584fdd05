-- Issue #14: calls from the phone system (CTI) for the screen pop: who called, which agent's
-- phone rang, which customer the number identified, when it was answered and ended, and the
-- ticket it was about. In step with ../postgres/0024_calls.sql.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    caller TEXT NOT NULL,
    direction TEXT NOT NULL,
    agent_id BIGINT REFERENCES users(id),
    customer_id BIGINT REFERENCES customers(id),
    ticket_id BIGINT REFERENCES tickets(id),
    interaction_id BIGINT REFERENCES interactions(id),
    external_id TEXT,
    started_at BIGINT NOT NULL,
    answered_at BIGINT,
    ended_at BIGINT,
    duration_s BIGINT,
    created_by BIGINT
);
CREATE UNIQUE INDEX calls_external ON calls(external_id) WHERE external_id IS NOT NULL;
CREATE INDEX calls_agent ON calls(agent_id, started_at);
CREATE INDEX calls_customer ON calls(customer_id, started_at);
