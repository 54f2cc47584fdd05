-- Issue #18: imports from the browser. An import keeps the uploaded file (so the mapping,
-- the preview and the run read the same bytes), its settings, its progress and outcome, and
-- one row per customer it created or updated: what an undo within 7 days takes back (the
-- stored fields before an update, the version the import left, to refuse an undo over a
-- colleague's later edit).
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_data BLOB NOT NULL,
    sheet TEXT,
    settings TEXT NOT NULL,
    status TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    invalid BIGINT NOT NULL,
    problems TEXT,
    error TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    undone_at BIGINT,
    undone_by BIGINT REFERENCES users(id),
    version BIGINT NOT NULL
);
CREATE INDEX imports_created ON imports(created_at, id);
CREATE INDEX imports_creator ON imports(created_by, created_at, id);
CREATE TABLE import_rows (
    import_id BIGINT NOT NULL REFERENCES imports(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    action TEXT NOT NULL,
    line BIGINT NOT NULL,
    before TEXT,
    version_after BIGINT,
    undone INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (import_id, customer_id)
);
CREATE INDEX import_rows_customer ON import_rows(customer_id);
