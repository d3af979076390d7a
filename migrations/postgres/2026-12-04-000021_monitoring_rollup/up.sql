-- The dashboard's money figures (flows per region and day, all days, per family, the
-- reach, the agents' days) are rolled up from the journal by the server in the background
-- (service::monitoring::rollup, issue 22), off the card transaction's path, with one
-- definition for both backends. The triggers that kept them, posting by posting, go.
-- Keep in step with the other backend's folder: the two share one schema.

DROP TRIGGER monitoring_on_postings ON postings;
DROP FUNCTION monitoring_on_postings();
DROP FUNCTION monitoring_writer_shard();
DROP TABLE monitoring_summed_journals;

-- Where the roll-up stands: every journal up to `journal_id_done` is in the figures (or
-- was never committed). `rolled_up_at` is when a pass last moved it (UTC, wall clock).
CREATE TABLE monitoring_rollup (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    journal_id_done BIGINT NOT NULL,
    rolled_up_at TIMESTAMP
);
-- The triggers kept the figures exact up to this step.
INSERT INTO monitoring_rollup (id, journal_id_done, rolled_up_at) SELECT 1, COALESCE(MAX(id), 0), NULL FROM journals;
-- Journals above the watermark already rolled up: on PostgreSQL journals commit out of id
-- order, so a pass may see journal 12 before 11. The watermark moves over an id once
-- every id below it is here, or missing for good.
CREATE TABLE monitoring_rolled_journals (
    journal_id BIGINT PRIMARY KEY,
    rolled_up_at TIMESTAMP NOT NULL
);
