-- The one durable job queue for background work (score refresh now; care, rules, sends,
-- imports, SLA timers next). A worker claims a due job by taking a lease (worker + lease_until)
-- and bumping attempts, which doubles as the fencing token: its completion only lands while the
-- job is still running under that same attempt. A job whose worker died (kill -9) is claimable
-- again once its lease runs out. At most one job per (kind, dedupe_key) is queued or running.
-- Keep in step with ../postgres/0015_jobs.sql.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    dedupe_key TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    worker TEXT,
    lease_until BIGINT,
    last_error TEXT,
    result TEXT,
    requested_by BIGINT,
    requested_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE UNIQUE INDEX jobs_active_key ON jobs(kind, dedupe_key)
    WHERE state IN ('queued', 'running') AND dedupe_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs(state, run_at, id);
CREATE INDEX jobs_kind ON jobs(kind, id);
