-- Issue #18: whether sales reps may import into their own book, an admin's choice (off: only
-- managers and admins import).
CREATE TABLE import_policy (
    id INTEGER PRIMARY KEY,
    sales_may_import INTEGER NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id)
);
INSERT INTO import_policy (id, sales_may_import, version, updated_at) VALUES (1, 0, 1, 0);
