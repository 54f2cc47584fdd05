-- Issue #13: a bulk load into an empty book (guanxi demo) sets the customers' secondary
-- indexes aside and builds each in one pass afterwards, instead of updating thirty indexes row
-- by row. Their definitions wait here meanwhile, so that a load that dies half-way gets them
-- back at the next start (Store::migrate) rather than leaving the book without them.
-- In step with ../postgres/0020_set_aside_indexes.sql.
CREATE TABLE set_aside_indexes (
    name TEXT PRIMARY KEY,
    ddl TEXT NOT NULL
);
