-- One customer-event stream that feeds the timeline. Every area that adds to a customer's
-- history (orders, interactions, tasks now; tickets, surveys, points, campaign messages next)
-- projects its rows into this table in the same transaction as the write, keyed by
-- (kind, ref_id), so the timeline is one index range paged by the (at, id) keyset and a new area
-- never edits the timeline query. Keep in step with ../postgres/0014_customer_events.sql.
CREATE TABLE customer_events (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    code TEXT NOT NULL,
    title TEXT,
    detail TEXT,
    amount_minor BIGINT,
    currency TEXT,
    user_id BIGINT,
    version BIGINT
);
CREATE UNIQUE INDEX customer_events_ref ON customer_events(kind, ref_id);
CREATE INDEX customer_events_page ON customer_events(customer_id, at, id);

-- Backfill from the rows that exist, oldest first so ids follow time.
INSERT INTO customer_events (customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency, user_id, version)
SELECT customer_id, at, kind, ref_id, code, title, detail, amount_minor, currency, user_id, version FROM (
    SELECT customer_id, ordered_at AS at, 'order' AS kind, id AS ref_id, channel AS code, store AS title,
           CAST(NULL AS TEXT) AS detail, total_minor AS amount_minor, currency, created_by AS user_id,
           CAST(NULL AS BIGINT) AS version
      FROM orders
    UNION ALL
    SELECT customer_id, occurred_at, 'interaction', id, channel, subject, body, CAST(NULL AS BIGINT),
           CAST(NULL AS TEXT), created_by, version
      FROM interactions
    UNION ALL
    SELECT customer_id, due_at, 'task', id, CASE WHEN done_at IS NULL THEN 'open' ELSE 'done' END,
           title, note, CAST(NULL AS BIGINT), CAST(NULL AS TEXT), assignee_id, version
      FROM tasks
) t ORDER BY at, kind, ref_id;
