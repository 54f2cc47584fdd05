-- Issue #18: the guard against mass export. One policy row (the admin's threshold: exports
-- of more customers need a manager's approval) and the requests above it, with who decided
-- and the one download an approval allows.
CREATE TABLE export_policy (
    id INTEGER PRIMARY KEY,
    approval_threshold BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id)
);
INSERT INTO export_policy (id, approval_threshold, version, updated_at) VALUES (1, 5000, 1, 0);
CREATE TABLE export_requests (
    id INTEGER PRIMARY KEY,
    requested_by BIGINT NOT NULL REFERENCES users(id),
    what TEXT NOT NULL,
    query TEXT NOT NULL,
    columns TEXT NOT NULL,
    format TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    decision_note TEXT,
    downloaded_at BIGINT,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX export_requests_created ON export_requests(created_at, id);
CREATE INDEX export_requests_requester ON export_requests(requested_by, created_at, id);
