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

-- Adds (or with negative numbers removes) orders of one owner and hour.
CREATE FUNCTION rollup_orders(owner BIGINT, hr BIGINT, n BIGINT, revenue BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO order_hours (owner_key, hour, orders, revenue_minor)
        VALUES (owner, hr, n, revenue)
        ON CONFLICT (owner_key, hour) DO UPDATE SET
            orders = order_hours.orders + excluded.orders,
            revenue_minor = order_hours.revenue_minor + excluded.revenue_minor;
    INSERT INTO order_owner_totals (owner_key, orders, revenue_minor)
        VALUES (owner, n, revenue)
        ON CONFLICT (owner_key) DO UPDATE SET
            orders = order_owner_totals.orders + excluded.orders,
            revenue_minor = order_owner_totals.revenue_minor + excluded.revenue_minor;
$$;

-- Adds (or removes) one live customer of an owner, creation hour and stage.
CREATE FUNCTION rollup_customer(owner BIGINT, hr BIGINT, stg TEXT, n BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO customer_hours (owner_key, hour, customers) VALUES (owner, hr, n)
        ON CONFLICT (owner_key, hour) DO UPDATE SET
            customers = customer_hours.customers + excluded.customers;
    INSERT INTO customer_stages (owner_key, stage, customers) VALUES (owner, stg, n)
        ON CONFLICT (owner_key, stage) DO UPDATE SET
            customers = customer_stages.customers + excluded.customers;
$$;

CREATE FUNCTION orders_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM rollup_orders(COALESCE(c.owner_id, 0), OLD.ordered_at / 3600000, -1, -OLD.total_minor)
        FROM customers c WHERE c.id = OLD.customer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM rollup_orders(COALESCE(c.owner_id, 0), NEW.ordered_at / 3600000, 1, NEW.total_minor)
        FROM customers c WHERE c.id = NEW.customer_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_rollup_insert AFTER INSERT OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_rollup();
CREATE TRIGGER orders_rollup_update AFTER UPDATE OF customer_id, ordered_at, total_minor ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_rollup();

CREATE FUNCTION customers_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.deleted_at IS NULL THEN
        PERFORM rollup_customer(COALESCE(OLD.owner_id, 0), OLD.created_at / 3600000, OLD.lifecycle_stage, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        PERFORM rollup_customer(COALESCE(NEW.owner_id, 0), NEW.created_at / 3600000, NEW.lifecycle_stage, 1);
    END IF;
    IF TG_OP = 'UPDATE' AND COALESCE(OLD.owner_id, 0) <> COALESCE(NEW.owner_id, 0) THEN
        PERFORM rollup_orders(COALESCE(OLD.owner_id, 0), o.ordered_at / 3600000, -COUNT(*), CAST(-SUM(o.total_minor) AS BIGINT))
        FROM orders o WHERE o.customer_id = NEW.id GROUP BY o.ordered_at / 3600000;
        PERFORM rollup_orders(COALESCE(NEW.owner_id, 0), o.ordered_at / 3600000, COUNT(*), CAST(SUM(o.total_minor) AS BIGINT))
        FROM orders o WHERE o.customer_id = NEW.id GROUP BY o.ordered_at / 3600000;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER customers_rollup_insert AFTER INSERT OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_rollup();
CREATE TRIGGER customers_rollup_update
    AFTER UPDATE OF owner_id, created_at, lifecycle_stage, deleted_at ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_rollup();
