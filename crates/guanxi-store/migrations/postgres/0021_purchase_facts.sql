-- Issue #13: per-customer purchase facts, so that a segment's "spent ≥ 500 in the last 365
-- days", "ordered ≥ 3 times in 90 days" or "ordered in the last 30 days" is one index range
-- over a million customers instead of a sum over each customer's orders. See
-- ../sqlite/0021_purchase_facts.sql for how the windows stay exact; in step with it.

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
) WITH (fillfactor = 85);

-- No row's anchor is older than this (less a margin): where a segment's band of orders that
-- left a window starts. The refresh raises it after moving every row's anchor.
CREATE TABLE purchase_facts_floor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    floor_at BIGINT NOT NULL
);
INSERT INTO purchase_facts_floor VALUES (1, (extract(epoch FROM now()) * 1000)::BIGINT - 7200000);

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

-- Rows for customers who have none, anchored an hour back (see the SQLite file).
CREATE FUNCTION purchase_facts_rows(customer_ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO customer_purchases
        SELECT DISTINCT r.id, (extract(epoch FROM now()) * 1000)::BIGINT - 3600000,
            0, 0, NULL::BIGINT, NULL::BIGINT, 0, 0, 0, 0, 0, 0, 0, 0
        FROM unnest(customer_ids) AS r(id)
        ON CONFLICT (customer_id) DO NOTHING;
$$;

-- Adds new orders to their customers' figures, each window about the row's own as_of.
CREATE FUNCTION purchase_facts_add(customer_ids BIGINT[], ats BIGINT[], totals BIGINT[])
RETURNS void LANGUAGE sql AS $$
    SELECT purchase_facts_rows(customer_ids);
    UPDATE customer_purchases f SET
        orders = f.orders + d.orders,
        spend_minor = f.spend_minor + d.spend_minor,
        first_order_at = LEAST(f.first_order_at, d.first_order_at),
        last_order_at = GREATEST(f.last_order_at, d.last_order_at),
        orders_30d = f.orders_30d + d.orders_30d, spend_30d_minor = f.spend_30d_minor + d.spend_30d_minor,
        orders_90d = f.orders_90d + d.orders_90d, spend_90d_minor = f.spend_90d_minor + d.spend_90d_minor,
        orders_180d = f.orders_180d + d.orders_180d, spend_180d_minor = f.spend_180d_minor + d.spend_180d_minor,
        orders_365d = f.orders_365d + d.orders_365d, spend_365d_minor = f.spend_365d_minor + d.spend_365d_minor
    FROM (
        SELECT r.customer_id, COUNT(*) AS orders, SUM(r.total_minor) AS spend_minor,
            MIN(r.ordered_at) AS first_order_at, MAX(r.ordered_at) AS last_order_at,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 2592000000 THEN 1 ELSE 0 END) AS orders_30d,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 2592000000 THEN r.total_minor ELSE 0 END) AS spend_30d_minor,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 7776000000 THEN 1 ELSE 0 END) AS orders_90d,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 7776000000 THEN r.total_minor ELSE 0 END) AS spend_90d_minor,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 15552000000 THEN 1 ELSE 0 END) AS orders_180d,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 15552000000 THEN r.total_minor ELSE 0 END) AS spend_180d_minor,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 31536000000 THEN 1 ELSE 0 END) AS orders_365d,
            SUM(CASE WHEN r.ordered_at >= g.as_of - 31536000000 THEN r.total_minor ELSE 0 END) AS spend_365d_minor
        FROM unnest(customer_ids, ats, totals) AS r(customer_id, ordered_at, total_minor)
        JOIN customer_purchases g ON g.customer_id = r.customer_id
        GROUP BY r.customer_id
    ) d
    WHERE f.customer_id = d.customer_id;
$$;

-- Recomputes customers' figures from their orders (a removed or changed order).
CREATE FUNCTION purchase_facts_recompute(customer_ids BIGINT[]) RETURNS void LANGUAGE sql AS $$
    SELECT purchase_facts_rows(customer_ids);
    UPDATE customer_purchases f SET
        orders = d.orders, spend_minor = d.spend_minor,
        first_order_at = d.first_order_at, last_order_at = d.last_order_at,
        orders_30d = d.orders_30d, spend_30d_minor = d.spend_30d_minor,
        orders_90d = d.orders_90d, spend_90d_minor = d.spend_90d_minor,
        orders_180d = d.orders_180d, spend_180d_minor = d.spend_180d_minor,
        orders_365d = d.orders_365d, spend_365d_minor = d.spend_365d_minor
    FROM (
        SELECT g.customer_id, COUNT(r.customer_id) AS orders,
            COALESCE(SUM(r.total_minor), 0) AS spend_minor,
            MIN(r.ordered_at) AS first_order_at, MAX(r.ordered_at) AS last_order_at,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 2592000000 THEN 1 ELSE 0 END), 0) AS orders_30d,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 2592000000 THEN r.total_minor ELSE 0 END), 0) AS spend_30d_minor,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 7776000000 THEN 1 ELSE 0 END), 0) AS orders_90d,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 7776000000 THEN r.total_minor ELSE 0 END), 0) AS spend_90d_minor,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 15552000000 THEN 1 ELSE 0 END), 0) AS orders_180d,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 15552000000 THEN r.total_minor ELSE 0 END), 0) AS spend_180d_minor,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 31536000000 THEN 1 ELSE 0 END), 0) AS orders_365d,
            COALESCE(SUM(CASE WHEN r.ordered_at >= g.as_of - 31536000000 THEN r.total_minor ELSE 0 END), 0) AS spend_365d_minor
        FROM customer_purchases g
        LEFT JOIN orders r ON r.customer_id = g.customer_id
        WHERE g.customer_id = ANY(customer_ids)
        GROUP BY g.customer_id
    ) d
    WHERE f.customer_id = d.customer_id;
$$;

CREATE FUNCTION orders_purchases_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM purchase_facts_add(array_agg(customer_id), array_agg(ordered_at), array_agg(total_minor))
    FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_purchases_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM purchase_facts_recompute(array_agg(DISTINCT customer_id)) FROM old_rows;
    RETURN NULL;
END $$;

-- Transition tables cannot name columns: any update recomputes the customers whose orders
-- changed in customer, time or total.
CREATE FUNCTION orders_purchases_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM purchase_facts_recompute(array_agg(DISTINCT id)) FROM (
        SELECT o.customer_id AS id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.customer_id, o.ordered_at, o.total_minor) IS DISTINCT FROM
              (n.customer_id, n.ordered_at, n.total_minor)
        UNION
        SELECT n.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.customer_id, o.ordered_at, o.total_minor) IS DISTINCT FROM
              (n.customer_id, n.ordered_at, n.total_minor)
    ) changed;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_purchases_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_purchases_insert();
CREATE TRIGGER orders_purchases_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_purchases_delete();
CREATE TRIGGER orders_purchases_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION orders_purchases_update();

-- The book's orders so far, anchored at the migration.
INSERT INTO customer_purchases
SELECT o.customer_id, a.t, COUNT(*), SUM(o.total_minor), MIN(o.ordered_at), MAX(o.ordered_at),
    SUM(CASE WHEN o.ordered_at >= a.t - 2592000000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 2592000000 THEN o.total_minor ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 7776000000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 7776000000 THEN o.total_minor ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 15552000000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 15552000000 THEN o.total_minor ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 31536000000 THEN 1 ELSE 0 END),
    SUM(CASE WHEN o.ordered_at >= a.t - 31536000000 THEN o.total_minor ELSE 0 END)
FROM orders o, (SELECT (extract(epoch FROM now()) * 1000)::BIGINT - 3600000 AS t) a
GROUP BY o.customer_id, a.t;
