-- Issue #14: the daily rollup split by cell (a ticket's queue and team, 0 for none), so an
-- agent's own figures add up the cells of their queues and the teams they lead instead of
-- aggregating every ticket of the period they see. Cell (-1, -1) holds the day's desk-wide
-- orders. Written with the day's ticket_days row, in the same transaction.
CREATE TABLE ticket_cell_days (
    day TEXT NOT NULL,
    queue_key BIGINT NOT NULL,
    team_key BIGINT NOT NULL,
    utc_offset_minutes BIGINT NOT NULL,
    figures TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (day, queue_key, team_key)
);
CREATE INDEX ticket_cell_days_queue ON ticket_cell_days(queue_key, day);
CREATE INDEX ticket_cell_days_team ON ticket_cell_days(team_key, day);
-- Days counted before cells existed are counted again (with their cells) by the next run.
DELETE FROM ticket_days;
