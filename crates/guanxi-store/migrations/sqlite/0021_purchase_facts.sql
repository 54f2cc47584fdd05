-- Issue #13: per-customer purchase facts, so that a segment's "spent ≥ 500 in the last 365
-- days", "ordered ≥ 3 times in 90 days" or "ordered in the last 30 days" is one index range
-- over a million customers instead of a sum over each customer's orders.
--
-- All-time figures are exact at every moment: the order triggers below keep them in the same
-- transaction as the write. Window figures (30, 90, 180, 365 days) count a customer's orders
-- placed at or after `as_of` minus the window; as time passes an order leaves a window, so
-- the segment compiler subtracts the orders of the narrow band [as_of - window, now - window)
-- (a range of the orders' time index) and the answer stays exact. The score refresh moves
-- `as_of` forward in bounded chunks (Store::reanchor_purchase_facts), recomputing only the
-- customers with an order that left a window, which keeps that band a day wide. Rows made by a trigger are anchored an hour back, so that a request whose
-- "now" was taken a moment before the write still finds its window inside the row's.
-- In step with ../postgres/0021_purchase_facts.sql.

CREATE TABLE customer_purchases (
    customer_id BIGINT PRIMARY KEY,
    as_of BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    spend_minor BIGINT NOT NULL,
    first_order_at BIGINT,
    last_order_at BIGINT,
    orders_30d BIGINT NOT NULL,
    spend_30d_minor BIGINT NOT NULL,
    orders_90d BIGINT NOT NULL,
    spend_90d_minor BIGINT NOT NULL,
    orders_180d BIGINT NOT NULL,
    spend_180d_minor BIGINT NOT NULL,
    orders_365d BIGINT NOT NULL,
    spend_365d_minor BIGINT NOT NULL
) WITHOUT ROWID;

-- No row's anchor is older than this (less a margin): where a segment's band of orders that
-- left a window starts. The refresh raises it after moving every row's anchor.
CREATE TABLE purchase_facts_floor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    floor_at BIGINT NOT NULL
);
INSERT INTO purchase_facts_floor VALUES (1, CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 7200000);

-- Each figure a segment compares is a range of its own index, which carries the id.
CREATE INDEX customer_purchases_last ON customer_purchases(last_order_at, customer_id);
CREATE INDEX customer_purchases_orders ON customer_purchases(orders, customer_id);
CREATE INDEX customer_purchases_spend ON customer_purchases(spend_minor, customer_id);
CREATE INDEX customer_purchases_orders_30d ON customer_purchases(orders_30d, customer_id);
CREATE INDEX customer_purchases_spend_30d ON customer_purchases(spend_30d_minor, customer_id);
CREATE INDEX customer_purchases_orders_90d ON customer_purchases(orders_90d, customer_id);
CREATE INDEX customer_purchases_spend_90d ON customer_purchases(spend_90d_minor, customer_id);
CREATE INDEX customer_purchases_orders_180d ON customer_purchases(orders_180d, customer_id);
CREATE INDEX customer_purchases_spend_180d ON customer_purchases(spend_180d_minor, customer_id);
CREATE INDEX customer_purchases_orders_365d ON customer_purchases(orders_365d, customer_id);
CREATE INDEX customer_purchases_spend_365d ON customer_purchases(spend_365d_minor, customer_id);

-- A customer's figures recomputed from their orders, about the row's own `as_of` (a row is
-- made, anchored an hour back, if there is none). SQLite has no functions in SQL: inserting
-- an id into this view runs the recomputation, as PostgreSQL's purchase_facts_recompute().
CREATE VIEW customer_purchases_recompute AS SELECT customer_id FROM customer_purchases WHERE 0;
CREATE TRIGGER customer_purchases_recompute_apply
INSTEAD OF INSERT ON customer_purchases_recompute BEGIN
    INSERT INTO customer_purchases VALUES (NEW.customer_id,
        CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000,
        0, 0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0)
        ON CONFLICT (customer_id) DO NOTHING;
    UPDATE customer_purchases SET (orders, spend_minor, first_order_at, last_order_at,
            orders_30d, spend_30d_minor, orders_90d, spend_90d_minor,
            orders_180d, spend_180d_minor, orders_365d, spend_365d_minor) = (
        SELECT COUNT(*), COALESCE(SUM(o.total_minor), 0), MIN(o.ordered_at), MAX(o.ordered_at),
            COALESCE(SUM(o.ordered_at >= customer_purchases.as_of - 2592000000), 0),
            COALESCE(SUM(CASE WHEN o.ordered_at >= customer_purchases.as_of - 2592000000
                THEN o.total_minor ELSE 0 END), 0),
            COALESCE(SUM(o.ordered_at >= customer_purchases.as_of - 7776000000), 0),
            COALESCE(SUM(CASE WHEN o.ordered_at >= customer_purchases.as_of - 7776000000
                THEN o.total_minor ELSE 0 END), 0),
            COALESCE(SUM(o.ordered_at >= customer_purchases.as_of - 15552000000), 0),
            COALESCE(SUM(CASE WHEN o.ordered_at >= customer_purchases.as_of - 15552000000
                THEN o.total_minor ELSE 0 END), 0),
            COALESCE(SUM(o.ordered_at >= customer_purchases.as_of - 31536000000), 0),
            COALESCE(SUM(CASE WHEN o.ordered_at >= customer_purchases.as_of - 31536000000
                THEN o.total_minor ELSE 0 END), 0)
        FROM orders o WHERE o.customer_id = NEW.customer_id)
    WHERE customer_id = NEW.customer_id;
END;

-- A new order adds to its customer's figures (one row updated, whatever their history).
CREATE TRIGGER orders_purchases_insert AFTER INSERT ON orders BEGIN
    INSERT INTO customer_purchases
    SELECT NEW.customer_id, a.t, 1, NEW.total_minor, NEW.ordered_at, NEW.ordered_at,
        NEW.ordered_at >= a.t - 2592000000,
        CASE WHEN NEW.ordered_at >= a.t - 2592000000 THEN NEW.total_minor ELSE 0 END,
        NEW.ordered_at >= a.t - 7776000000,
        CASE WHEN NEW.ordered_at >= a.t - 7776000000 THEN NEW.total_minor ELSE 0 END,
        NEW.ordered_at >= a.t - 15552000000,
        CASE WHEN NEW.ordered_at >= a.t - 15552000000 THEN NEW.total_minor ELSE 0 END,
        NEW.ordered_at >= a.t - 31536000000,
        CASE WHEN NEW.ordered_at >= a.t - 31536000000 THEN NEW.total_minor ELSE 0 END
    FROM (SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000 AS t) a WHERE 1
    ON CONFLICT (customer_id) DO UPDATE SET
        orders = orders + 1,
        spend_minor = spend_minor + NEW.total_minor,
        first_order_at = MIN(COALESCE(first_order_at, NEW.ordered_at), NEW.ordered_at),
        last_order_at = MAX(COALESCE(last_order_at, NEW.ordered_at), NEW.ordered_at),
        orders_30d = orders_30d + (NEW.ordered_at >= as_of - 2592000000),
        spend_30d_minor = spend_30d_minor
            + CASE WHEN NEW.ordered_at >= as_of - 2592000000 THEN NEW.total_minor ELSE 0 END,
        orders_90d = orders_90d + (NEW.ordered_at >= as_of - 7776000000),
        spend_90d_minor = spend_90d_minor
            + CASE WHEN NEW.ordered_at >= as_of - 7776000000 THEN NEW.total_minor ELSE 0 END,
        orders_180d = orders_180d + (NEW.ordered_at >= as_of - 15552000000),
        spend_180d_minor = spend_180d_minor
            + CASE WHEN NEW.ordered_at >= as_of - 15552000000 THEN NEW.total_minor ELSE 0 END,
        orders_365d = orders_365d + (NEW.ordered_at >= as_of - 31536000000),
        spend_365d_minor = spend_365d_minor
            + CASE WHEN NEW.ordered_at >= as_of - 31536000000 THEN NEW.total_minor ELSE 0 END;
END;

-- A removed or changed order (erasure, a merge moving orders, a corrected total) recomputes
-- the customers it touched: rare, and a customer's orders are one range of orders_customer.
CREATE TRIGGER orders_purchases_delete AFTER DELETE ON orders BEGIN
    INSERT INTO customer_purchases_recompute VALUES (OLD.customer_id);
END;

CREATE TRIGGER orders_purchases_update AFTER UPDATE OF customer_id, ordered_at, total_minor ON orders
BEGIN
    INSERT INTO customer_purchases_recompute VALUES (OLD.customer_id);
    INSERT INTO customer_purchases_recompute SELECT NEW.customer_id
        WHERE NEW.customer_id <> OLD.customer_id;
END;

-- The book's orders so far, anchored at the migration.
INSERT INTO customer_purchases
SELECT o.customer_id, a.t, COUNT(*), SUM(o.total_minor), MIN(o.ordered_at), MAX(o.ordered_at),
    SUM(o.ordered_at >= a.t - 2592000000),
    SUM(CASE WHEN o.ordered_at >= a.t - 2592000000 THEN o.total_minor ELSE 0 END),
    SUM(o.ordered_at >= a.t - 7776000000),
    SUM(CASE WHEN o.ordered_at >= a.t - 7776000000 THEN o.total_minor ELSE 0 END),
    SUM(o.ordered_at >= a.t - 15552000000),
    SUM(CASE WHEN o.ordered_at >= a.t - 15552000000 THEN o.total_minor ELSE 0 END),
    SUM(o.ordered_at >= a.t - 31536000000),
    SUM(CASE WHEN o.ordered_at >= a.t - 31536000000 THEN o.total_minor ELSE 0 END)
FROM orders o, (SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000 AS t) a
GROUP BY o.customer_id;
