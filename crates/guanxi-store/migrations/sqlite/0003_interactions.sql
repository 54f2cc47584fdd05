-- The customer timeline beyond orders: interactions on every channel and follow-up tasks.
-- Keep in step with ../postgres/0003_interactions.sql.
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    occurred_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
CREATE INDEX interactions_customer ON interactions(customer_id, occurred_at);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    title TEXT NOT NULL,
    note TEXT,
    due_at BIGINT NOT NULL,
    done_at BIGINT,
    assignee_id BIGINT REFERENCES users(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT,
    updated_by BIGINT
);
CREATE INDEX tasks_customer ON tasks(customer_id, due_at);
CREATE INDEX tasks_assignee ON tasks(assignee_id, done_at, due_at);
