-- One row per merge of two customers, holding what an undo needs for 30 days: the kept
-- record's fields before and after, and the ids of every row the merge moved or removed.
-- Keep in step with ../postgres/0011_customer_merges.sql.
CREATE TABLE customer_merges (
    id INTEGER PRIMARY KEY,
    winner_id BIGINT NOT NULL REFERENCES customers(id),
    loser_id BIGINT NOT NULL REFERENCES customers(id),
    winner_before TEXT NOT NULL,
    winner_after TEXT NOT NULL,
    moved TEXT NOT NULL,
    merged_at BIGINT NOT NULL,
    merged_by BIGINT,
    undone_at BIGINT,
    undone_by BIGINT
);
CREATE INDEX customer_merges_winner ON customer_merges(winner_id, merged_at);
CREATE INDEX customer_merges_loser ON customer_merges(loser_id);
