-- Issue #13: the dashboard's figures come from rollups kept by triggers in the same
-- transaction as every write (single, bulk, merge, reassignment, soft delete), instead of
-- counting a million customers and two million orders per view. Keyed by the customer's
-- owner (0 for none), so a rep's dashboard sums its team's owners; by UTC hour, so any shop
-- time zone of whole hours cuts local days and months exactly from them.
-- In step with ../postgres/0017_dashboard_rollups.sql.

CREATE TABLE order_hours (
    owner_key BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    PRIMARY KEY (owner_key, hour)
) WITHOUT ROWID;
CREATE INDEX order_hours_hour ON order_hours(hour, owner_key, orders, revenue_minor);

CREATE TABLE order_owner_totals (
    owner_key BIGINT PRIMARY KEY,
    orders BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL
) WITHOUT ROWID;

-- Live (not deleted) customers by the hour their record was made, and by stage.
CREATE TABLE customer_hours (
    owner_key BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    customers BIGINT NOT NULL,
    PRIMARY KEY (owner_key, hour)
) WITHOUT ROWID;
CREATE INDEX customer_hours_hour ON customer_hours(hour, owner_key, customers);

CREATE TABLE customer_stages (
    owner_key BIGINT NOT NULL,
    stage TEXT NOT NULL,
    customers BIGINT NOT NULL,
    PRIMARY KEY (owner_key, stage)
) WITHOUT ROWID;

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

-- SQLite has no functions in SQL: a view whose INSTEAD OF trigger applies one change to the
-- rollups plays the part of PostgreSQL's rollup_orders() and rollup_customer().
CREATE VIEW order_rollup_delta AS
    SELECT owner_key, hour, orders, revenue_minor FROM order_hours WHERE 0;
CREATE TRIGGER order_rollup_delta_apply INSTEAD OF INSERT ON order_rollup_delta BEGIN
    INSERT INTO order_hours (owner_key, hour, orders, revenue_minor)
        VALUES (NEW.owner_key, NEW.hour, NEW.orders, NEW.revenue_minor)
        ON CONFLICT (owner_key, hour) DO UPDATE SET orders = orders + excluded.orders,
            revenue_minor = revenue_minor + excluded.revenue_minor;
    INSERT INTO order_owner_totals (owner_key, orders, revenue_minor)
        VALUES (NEW.owner_key, NEW.orders, NEW.revenue_minor)
        ON CONFLICT (owner_key) DO UPDATE SET orders = orders + excluded.orders,
            revenue_minor = revenue_minor + excluded.revenue_minor;
END;

CREATE VIEW customer_rollup_delta AS
    SELECT h.owner_key, h.hour, s.stage, h.customers
    FROM customer_hours h, customer_stages s WHERE 0;
CREATE TRIGGER customer_rollup_delta_apply INSTEAD OF INSERT ON customer_rollup_delta BEGIN
    INSERT INTO customer_hours (owner_key, hour, customers)
        VALUES (NEW.owner_key, NEW.hour, NEW.customers)
        ON CONFLICT (owner_key, hour) DO UPDATE SET customers = customers + excluded.customers;
    INSERT INTO customer_stages (owner_key, stage, customers)
        VALUES (NEW.owner_key, NEW.stage, NEW.customers)
        ON CONFLICT (owner_key, stage) DO UPDATE SET customers = customers + excluded.customers;
END;

-- Orders: one in, one out, one moved (customer, time or total changed).
CREATE TRIGGER orders_rollup_insert AFTER INSERT ON orders BEGIN
    INSERT INTO order_rollup_delta
        SELECT COALESCE(c.owner_id, 0), NEW.ordered_at / 3600000, 1, NEW.total_minor
        FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER orders_rollup_delete AFTER DELETE ON orders BEGIN
    INSERT INTO order_rollup_delta
        SELECT COALESCE(c.owner_id, 0), OLD.ordered_at / 3600000, -1, -OLD.total_minor
        FROM customers c WHERE c.id = OLD.customer_id;
END;

CREATE TRIGGER orders_rollup_update AFTER UPDATE OF customer_id, ordered_at, total_minor ON orders
BEGIN
    INSERT INTO order_rollup_delta
        SELECT COALESCE(c.owner_id, 0), OLD.ordered_at / 3600000, -1, -OLD.total_minor
        FROM customers c WHERE c.id = OLD.customer_id;
    INSERT INTO order_rollup_delta
        SELECT COALESCE(c.owner_id, 0), NEW.ordered_at / 3600000, 1, NEW.total_minor
        FROM customers c WHERE c.id = NEW.customer_id;
END;

-- Customers: a new live one counts; a change of owner moves its orders and itself between
-- owners; a change of creation time, stage or deletion moves or drops its count.
CREATE TRIGGER customers_rollup_insert AFTER INSERT ON customers WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO customer_rollup_delta VALUES
        (COALESCE(NEW.owner_id, 0), NEW.created_at / 3600000, NEW.lifecycle_stage, 1);
END;

CREATE TRIGGER customers_rollup_leave
AFTER UPDATE OF owner_id, created_at, lifecycle_stage, deleted_at ON customers
WHEN OLD.deleted_at IS NULL
BEGIN
    INSERT INTO customer_rollup_delta VALUES
        (COALESCE(OLD.owner_id, 0), OLD.created_at / 3600000, OLD.lifecycle_stage, -1);
END;

CREATE TRIGGER customers_rollup_enter
AFTER UPDATE OF owner_id, created_at, lifecycle_stage, deleted_at ON customers
WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO customer_rollup_delta VALUES
        (COALESCE(NEW.owner_id, 0), NEW.created_at / 3600000, NEW.lifecycle_stage, 1);
END;

CREATE TRIGGER customers_rollup_owner AFTER UPDATE OF owner_id ON customers
WHEN COALESCE(OLD.owner_id, 0) <> COALESCE(NEW.owner_id, 0)
BEGIN
    INSERT INTO order_rollup_delta
        SELECT COALESCE(OLD.owner_id, 0), o.ordered_at / 3600000, -COUNT(*), -SUM(o.total_minor)
        FROM orders o WHERE o.customer_id = NEW.id GROUP BY 2;
    INSERT INTO order_rollup_delta
        SELECT COALESCE(NEW.owner_id, 0), o.ordered_at / 3600000, COUNT(*), SUM(o.total_minor)
        FROM orders o WHERE o.customer_id = NEW.id GROUP BY 2;
END;
