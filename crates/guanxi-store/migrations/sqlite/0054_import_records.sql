-- Issue #18: imports of other records than customers (orders with their lines first). Each
-- record an import created is kept here, in the import's transaction, so that an undo within
-- 7 days can take exactly those records back.
CREATE TABLE import_records (
    import_id BIGINT NOT NULL REFERENCES imports(id),
    kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (import_id, kind, record_id)
);
CREATE INDEX import_records_record ON import_records(kind, record_id);
-- An undo keeps an order that a ticket or a deal refers to; these answer "does one?" by index.
CREATE INDEX tickets_order ON tickets(order_id);
CREATE INDEX opportunities_order ON opportunities(order_id);
