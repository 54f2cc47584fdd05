-- Issue #13: the dashboard's figures come from rollups kept by triggers in the same
-- transaction as every write (single, bulk, merge, reassignment, soft delete), instead of
-- counting a million customers and two million orders per view. Keyed by the customer's
-- owner (0 for none), so a rep's dashboard sums its team's owners; by UTC hour, so any shop
-- time zone of whole hours cuts local days and months exactly from them.
-- In step with ../sqlite/0017_dashboard_rollups.sql.

CREATE TABLE order_hours (
    owner_key BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    PRIMARY KEY (owner_key, hour)
);
CREATE INDEX order_hours_hour ON order_hours(hour, owner_key, orders, revenue_minor);

CREATE TABLE order_owner_totals (
    owner_key BIGINT PRIMARY KEY,
    orders BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL
);

CREATE TABLE customer_hours (
    owner_key BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    customers BIGINT NOT NULL,
    PRIMARY KEY (owner_key, hour)
);
CREATE INDEX customer_hours_hour ON customer_hours(hour, owner_key, customers);

CREATE TABLE customer_stages (
    owner_key BIGINT NOT NULL,
    stage TEXT NOT NULL,
    customers BIGINT NOT NULL,
    PRIMARY KEY (owner_key, stage)
);

INSERT INTO order_hours (owner_key, hour, orders, revenue_minor)
    SELECT COALESCE(c.owner_id, 0), o.ordered_at / 3600000, COUNT(*), SUM(o.total_minor)
    FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY 1, 2;
INSERT INTO order_owner_totals (owner_key, orders, revenue_minor)
    SELECT owner_key, SUM(orders), SUM(revenue_minor) FROM order_hours GROUP BY 1;
INSERT INTO customer_hours (owner_key, hour, customers)
    SELECT COALESCE(owner_id, 0), created_at / 3600000, COUNT(*) FROM customers
    WHERE deleted_at IS NULL GROUP BY 1, 2;
INSERT INTO customer_stages (owner_key, stage, customers)
    SELECT COALESCE(owner_id, 0), lifecycle_stage, COUNT(*) FROM customers
    WHERE deleted_at IS NULL GROUP BY 1, 2;

-- Statement-level triggers over transition tables: a COPY of 100,000 orders updates the
-- rollups once, with one aggregate, instead of 100,000 times (a row trigger made a bulk
-- load of orders 60 times slower). A transition table is visible only in its trigger's own
-- function, so each trigger passes its rows as arrays to the shared functions below.
-- Transition tables cannot name columns, so the update triggers fire on any update; rows
-- whose counted columns did not change net out.

-- Adds orders (sign -1: removes them) per owner (the customer's now) and hour, and the
-- owners' totals.
CREATE FUNCTION rollup_orders(customer_ids BIGINT[], ats BIGINT[], totals BIGINT[], sign BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO order_hours AS h (owner_key, hour, orders, revenue_minor)
        SELECT COALESCE(c.owner_id, 0), r.ordered_at / 3600000, sign * COUNT(*), sign * SUM(r.total_minor)
        FROM unnest(customer_ids, ats, totals) AS r(customer_id, ordered_at, total_minor)
        JOIN customers c ON c.id = r.customer_id GROUP BY 1, 2
        ON CONFLICT (owner_key, hour) DO UPDATE SET orders = h.orders + excluded.orders,
            revenue_minor = h.revenue_minor + excluded.revenue_minor;
    INSERT INTO order_owner_totals AS t (owner_key, orders, revenue_minor)
        SELECT COALESCE(c.owner_id, 0), sign * COUNT(*), sign * SUM(r.total_minor)
        FROM unnest(customer_ids, totals) AS r(customer_id, total_minor)
        JOIN customers c ON c.id = r.customer_id GROUP BY 1
        ON CONFLICT (owner_key) DO UPDATE SET orders = t.orders + excluded.orders,
            revenue_minor = t.revenue_minor + excluded.revenue_minor;
$$;

-- Adds live customers (sign -1: removes them) per owner and creation hour, and per stage.
CREATE FUNCTION rollup_customers(owners BIGINT[], ats BIGINT[], stages TEXT[], sign BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO customer_hours AS h (owner_key, hour, customers)
        SELECT COALESCE(r.owner_id, 0), r.created_at / 3600000, sign * COUNT(*)
        FROM unnest(owners, ats) AS r(owner_id, created_at) GROUP BY 1, 2
        ON CONFLICT (owner_key, hour) DO UPDATE SET customers = h.customers + excluded.customers;
    INSERT INTO customer_stages AS s (owner_key, stage, customers)
        SELECT COALESCE(r.owner_id, 0), r.stage, sign * COUNT(*)
        FROM unnest(owners, stages) AS r(owner_id, stage) GROUP BY 1, 2
        ON CONFLICT (owner_key, stage) DO UPDATE SET customers = s.customers + excluded.customers;
$$;

-- Moves the orders of customers whose owner changed from the old owners to the new.
CREATE FUNCTION rollup_move_orders(customer_ids BIGINT[], old_owners BIGINT[], new_owners BIGINT[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO order_hours AS h (owner_key, hour, orders, revenue_minor)
        SELECT owner_key, hour, SUM(n), SUM(revenue) FROM (
            SELECT m.old_owner AS owner_key, o.ordered_at / 3600000 AS hour, -1 AS n,
                   -o.total_minor AS revenue
            FROM unnest(customer_ids, old_owners, new_owners) AS m(id, old_owner, new_owner)
            JOIN orders o ON o.customer_id = m.id
            UNION ALL
            SELECT m.new_owner, o.ordered_at / 3600000, 1, o.total_minor
            FROM unnest(customer_ids, old_owners, new_owners) AS m(id, old_owner, new_owner)
            JOIN orders o ON o.customer_id = m.id
        ) moved GROUP BY 1, 2
        ON CONFLICT (owner_key, hour) DO UPDATE SET orders = h.orders + excluded.orders,
            revenue_minor = h.revenue_minor + excluded.revenue_minor;
    INSERT INTO order_owner_totals AS t (owner_key, orders, revenue_minor)
        SELECT owner_key, SUM(n), SUM(revenue) FROM (
            SELECT m.old_owner AS owner_key, -1 AS n, -o.total_minor AS revenue
            FROM unnest(customer_ids, old_owners, new_owners) AS m(id, old_owner, new_owner)
            JOIN orders o ON o.customer_id = m.id
            UNION ALL
            SELECT m.new_owner, 1, o.total_minor
            FROM unnest(customer_ids, old_owners, new_owners) AS m(id, old_owner, new_owner)
            JOIN orders o ON o.customer_id = m.id
        ) moved GROUP BY 1
        ON CONFLICT (owner_key) DO UPDATE SET orders = t.orders + excluded.orders,
            revenue_minor = t.revenue_minor + excluded.revenue_minor;
$$;

CREATE FUNCTION orders_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_orders(array_agg(customer_id), array_agg(ordered_at), array_agg(total_minor), 1)
    FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_orders(array_agg(customer_id), array_agg(ordered_at), array_agg(total_minor), -1)
    FROM old_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_orders(array_agg(customer_id), array_agg(ordered_at), array_agg(total_minor), -1)
    FROM old_rows;
    PERFORM rollup_orders(array_agg(customer_id), array_agg(ordered_at), array_agg(total_minor), 1)
    FROM new_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_rollup_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_rollup_insert();
CREATE TRIGGER orders_rollup_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_rollup_delete();
CREATE TRIGGER orders_rollup_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION orders_rollup_update();

CREATE FUNCTION customers_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_customers(array_agg(owner_id), array_agg(created_at), array_agg(lifecycle_stage), 1)
    FROM new_rows WHERE deleted_at IS NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION customers_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_customers(array_agg(owner_id), array_agg(created_at), array_agg(lifecycle_stage), -1)
    FROM old_rows WHERE deleted_at IS NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION customers_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rollup_customers(array_agg(owner_id), array_agg(created_at), array_agg(lifecycle_stage), -1)
    FROM old_rows WHERE deleted_at IS NULL;
    PERFORM rollup_customers(array_agg(owner_id), array_agg(created_at), array_agg(lifecycle_stage), 1)
    FROM new_rows WHERE deleted_at IS NULL;
    PERFORM rollup_move_orders(array_agg(n.id), array_agg(COALESCE(o.owner_id, 0)), array_agg(COALESCE(n.owner_id, 0)))
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE COALESCE(o.owner_id, 0) <> COALESCE(n.owner_id, 0);
    RETURN NULL;
END $$;

CREATE TRIGGER customers_rollup_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_rollup_insert();
CREATE TRIGGER customers_rollup_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_rollup_delete();
CREATE TRIGGER customers_rollup_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customers_rollup_update();
