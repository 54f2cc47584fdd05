-- Covering indexes for the dashboard, so its counts read index entries only, never table rows
-- (issue #11: the revenue-per-month query fetched a row per order). With the reader's scope
-- "all", orders are summed without joining customers. Keep in step with ../postgres/0010_dashboard_indexes.sql.
CREATE INDEX orders_time_total ON orders(ordered_at, total_minor, customer_id);
CREATE INDEX customers_live_stage ON customers(deleted_at, lifecycle_stage, owner_id);
CREATE INDEX customers_live_created ON customers(deleted_at, created_at, owner_id);
