-- Issue #17: the kanban's column sums and the weighted forecast come from a rollup of open,
-- won and lost deals by (pipeline, stage, owner, close month), kept by triggers in the same
-- transaction as every write (create, move, edit, delete, a bulk insert), as the dashboard's
-- rollups are (0017), instead of summing 200,000 deals per view. Owner 0: none; month '':
-- no expected close. The weighted amount is each deal's rounded amount × probability (won
-- 100, lost 0, else its own or its stage's); a change of a stage's probability or kind
-- recounts that stage.
-- In step with ../sqlite/0047_opportunity_rollup.sql.

-- The pipeline's figures over the deals created in a period (funnel, win rate and cycle by
-- source, time in stage) come from two more rollups by creation day (UTC days, epoch day
-- numbers): each deal's cohort by its furthest open or won stage (kept on the deal,
-- `furthest_position`), source and status; and the moves out of each stage with the time spent
-- in it, counted under the deal's owner at the time of the move.
ALTER TABLE opportunities ADD COLUMN furthest_position BIGINT NOT NULL DEFAULT 0;
UPDATE opportunities SET furthest_position = COALESCE((SELECT MAX(s.position)
    FROM opportunity_stage_changes c JOIN pipeline_stages s ON s.id = c.to_stage_id
    WHERE c.opportunity_id = opportunities.id AND s.kind <> 'lost'), 0);

CREATE TABLE opportunity_rollup (
    pipeline_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    owner_key BIGINT NOT NULL,
    close_month TEXT NOT NULL,
    deals BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    weighted_minor BIGINT NOT NULL,
    PRIMARY KEY (pipeline_id, stage_id, owner_key, close_month)
);
CREATE INDEX opportunity_rollup_month ON opportunity_rollup(close_month, owner_key);

INSERT INTO opportunity_rollup
    SELECT o.pipeline_id, o.stage_id, COALESCE(o.owner_id, 0),
        COALESCE(SUBSTR(o.expected_close, 1, 7), ''), COUNT(*), SUM(o.amount_minor),
        SUM((o.amount_minor * (CASE WHEN s.kind = 'won' THEN 100 WHEN s.kind = 'lost' THEN 0
            ELSE COALESCE(o.probability, s.probability) END) + 50) / 100)
    FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id
    WHERE o.deleted_at IS NULL GROUP BY 1, 2, 3, 4;

-- The deals of a statement in (sign 1: new_rows) or out (sign -1: old_rows), summed per key.
CREATE FUNCTION opportunities_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO opportunity_rollup AS r
            (pipeline_id, stage_id, owner_key, close_month, deals, amount_minor, weighted_minor)
            SELECT o.pipeline_id, o.stage_id, COALESCE(o.owner_id, 0),
                COALESCE(SUBSTR(o.expected_close, 1, 7), ''), -COUNT(*), -SUM(o.amount_minor),
                -SUM((o.amount_minor * (CASE WHEN s.kind = 'won' THEN 100 WHEN s.kind = 'lost'
                    THEN 0 ELSE COALESCE(o.probability, s.probability) END) + 50) / 100)
            FROM old_rows o JOIN pipeline_stages s ON s.id = o.stage_id
            WHERE o.deleted_at IS NULL GROUP BY 1, 2, 3, 4
            ON CONFLICT (pipeline_id, stage_id, owner_key, close_month) DO UPDATE SET
                deals = r.deals + excluded.deals,
                amount_minor = r.amount_minor + excluded.amount_minor,
                weighted_minor = r.weighted_minor + excluded.weighted_minor;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO opportunity_rollup AS r
            (pipeline_id, stage_id, owner_key, close_month, deals, amount_minor, weighted_minor)
            SELECT o.pipeline_id, o.stage_id, COALESCE(o.owner_id, 0),
                COALESCE(SUBSTR(o.expected_close, 1, 7), ''), COUNT(*), SUM(o.amount_minor),
                SUM((o.amount_minor * (CASE WHEN s.kind = 'won' THEN 100 WHEN s.kind = 'lost'
                    THEN 0 ELSE COALESCE(o.probability, s.probability) END) + 50) / 100)
            FROM new_rows o JOIN pipeline_stages s ON s.id = o.stage_id
            WHERE o.deleted_at IS NULL GROUP BY 1, 2, 3, 4
            ON CONFLICT (pipeline_id, stage_id, owner_key, close_month) DO UPDATE SET
                deals = r.deals + excluded.deals,
                amount_minor = r.amount_minor + excluded.amount_minor,
                weighted_minor = r.weighted_minor + excluded.weighted_minor;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER opportunities_rollup_insert AFTER INSERT ON opportunities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunities_rollup();
CREATE TRIGGER opportunities_rollup_delete AFTER DELETE ON opportunities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunities_rollup();
CREATE TRIGGER opportunities_rollup_update AFTER UPDATE ON opportunities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION opportunities_rollup();

-- A stage whose probability or kind changes: its deals' weighted amounts are recounted.
CREATE FUNCTION pipeline_stages_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM opportunity_rollup WHERE pipeline_id = NEW.pipeline_id AND stage_id = NEW.id;
    INSERT INTO opportunity_rollup
        SELECT o.pipeline_id, o.stage_id, COALESCE(o.owner_id, 0),
            COALESCE(SUBSTR(o.expected_close, 1, 7), ''), COUNT(*), SUM(o.amount_minor),
            SUM((o.amount_minor * (CASE WHEN NEW.kind = 'won' THEN 100 WHEN NEW.kind = 'lost'
                THEN 0 ELSE COALESCE(o.probability, NEW.probability) END) + 50) / 100)
        FROM opportunities o WHERE o.stage_id = NEW.id AND o.deleted_at IS NULL
        GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;
CREATE TRIGGER pipeline_stages_rollup AFTER UPDATE OF probability, kind ON pipeline_stages
    FOR EACH ROW EXECUTE FUNCTION pipeline_stages_rollup();

-- The kanban's newest cards per stage, one index range with the id tie-break, for everyone
-- and for a rep's own deals.
DROP INDEX opportunities_board;
CREATE INDEX opportunities_board ON opportunities(pipeline_id, stage_id, updated_at, id);
CREATE INDEX opportunities_owner_board
    ON opportunities(owner_id, pipeline_id, stage_id, updated_at, id);

CREATE TABLE opportunity_cohorts (
    pipeline_id BIGINT NOT NULL,
    owner_key BIGINT NOT NULL,
    created_day BIGINT NOT NULL,
    source TEXT NOT NULL,
    furthest_position BIGINT NOT NULL,
    status TEXT NOT NULL,
    deals BIGINT NOT NULL,
    won_ms BIGINT NOT NULL,
    PRIMARY KEY (pipeline_id, created_day, owner_key, source, furthest_position, status)
);
INSERT INTO opportunity_cohorts
    SELECT pipeline_id, COALESCE(owner_id, 0), created_at / 86400000, COALESCE(source, ''),
        furthest_position, status, COUNT(*),
        SUM(CASE WHEN status = 'won' THEN closed_at - created_at ELSE 0 END)
    FROM opportunities WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6;

CREATE FUNCTION opportunities_cohort() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO opportunity_cohorts AS k (pipeline_id, owner_key, created_day, source,
                furthest_position, status, deals, won_ms)
            SELECT pipeline_id, COALESCE(owner_id, 0), created_at / 86400000,
                COALESCE(source, ''), furthest_position, status, -COUNT(*),
                -SUM(CASE WHEN status = 'won' THEN closed_at - created_at ELSE 0 END)
            FROM old_rows WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (pipeline_id, created_day, owner_key, source, furthest_position, status)
            DO UPDATE SET deals = k.deals + excluded.deals, won_ms = k.won_ms + excluded.won_ms;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO opportunity_cohorts AS k (pipeline_id, owner_key, created_day, source,
                furthest_position, status, deals, won_ms)
            SELECT pipeline_id, COALESCE(owner_id, 0), created_at / 86400000,
                COALESCE(source, ''), furthest_position, status, COUNT(*),
                SUM(CASE WHEN status = 'won' THEN closed_at - created_at ELSE 0 END)
            FROM new_rows WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (pipeline_id, created_day, owner_key, source, furthest_position, status)
            DO UPDATE SET deals = k.deals + excluded.deals, won_ms = k.won_ms + excluded.won_ms;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER opportunities_cohort_insert AFTER INSERT ON opportunities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunities_cohort();
CREATE TRIGGER opportunities_cohort_delete AFTER DELETE ON opportunities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunities_cohort();
CREATE TRIGGER opportunities_cohort_update AFTER UPDATE ON opportunities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION opportunities_cohort();

CREATE TABLE opportunity_stage_times (
    pipeline_id BIGINT NOT NULL,
    owner_key BIGINT NOT NULL,
    created_day BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    moves BIGINT NOT NULL,
    ms BIGINT NOT NULL,
    PRIMARY KEY (pipeline_id, created_day, owner_key, stage_id)
);
INSERT INTO opportunity_stage_times
    SELECT o.pipeline_id, COALESCE(o.owner_id, 0), o.created_at / 86400000, c.from_stage_id,
        COUNT(*), SUM(c.ms_in_from)
    FROM opportunity_stage_changes c JOIN opportunities o ON o.id = c.opportunity_id
    WHERE c.from_stage_id IS NOT NULL AND o.deleted_at IS NULL GROUP BY 1, 2, 3, 4;
CREATE FUNCTION opportunity_stage_changes_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO opportunity_stage_times AS t (pipeline_id, owner_key, created_day, stage_id,
            moves, ms)
        SELECT o.pipeline_id, COALESCE(o.owner_id, 0), o.created_at / 86400000,
            n.from_stage_id, COUNT(*), SUM(COALESCE(n.ms_in_from, 0))
        FROM new_rows n JOIN opportunities o ON o.id = n.opportunity_id
        WHERE n.from_stage_id IS NOT NULL GROUP BY 1, 2, 3, 4
        ON CONFLICT (pipeline_id, created_day, owner_key, stage_id)
        DO UPDATE SET moves = t.moves + excluded.moves, ms = t.ms + excluded.ms;
    RETURN NULL;
END $$;
CREATE TRIGGER opportunity_stage_changes_times AFTER INSERT ON opportunity_stage_changes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION opportunity_stage_changes_times();
