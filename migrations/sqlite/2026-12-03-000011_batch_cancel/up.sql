-- A batch can be cancelled until it executes (its lines are freed for another batch), and
-- a batch is live while it is being prepared, prepared, approved or executing: one live
-- batch at a time for a programme, year, period and region, enforced by the unique index
-- below, so two servers preparing the same stage at once cannot both succeed.
-- Keep in step with the other backend's folder: the two share one schema.
--
-- SQLite cannot alter a CHECK, so the table is rebuilt (sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"). The lines refer to it, and with foreign keys on,
-- dropping it fails on the lines it would orphan, even deferred to the commit; foreign
-- keys can be switched off only outside a transaction, hence metadata.toml and the
-- transaction below, which checks every reference itself before it commits. No trigger
-- or view refers to the batches; the index is made again.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE disbursement_batches_rebuilt (
    id INTEGER PRIMARY KEY,
    programme TEXT NOT NULL CHECK (programme IN ('pkh', 'bpnt', 'lpg')),
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    region_code TEXT REFERENCES regions (code),
    status TEXT NOT NULL CHECK (status IN ('preparing', 'prepared', 'approved', 'executing', 'completed', 'cancelled')),
    -- A stage credited in advance is held until this moment.
    release_at TIMESTAMP,
    prepared_by TEXT NOT NULL,
    prepared_at TIMESTAMP NOT NULL,
    approved_by TEXT,
    approved_at TIMESTAMP,
    completed_at TIMESTAMP,
    lines_total BIGINT NOT NULL DEFAULT 0,
    amount_total_minor BIGINT NOT NULL DEFAULT 0,
    paid_lines BIGINT NOT NULL DEFAULT 0,
    paid_amount_minor BIGINT NOT NULL DEFAULT 0,
    failed_lines BIGINT NOT NULL DEFAULT 0,
    cancelled_by TEXT,
    cancelled_at TIMESTAMP,
    cancellation_reason TEXT,
    CHECK (approved_by IS NULL OR approved_by <> prepared_by),
    CHECK (status <> 'cancelled' OR (cancelled_by IS NOT NULL AND cancelled_at IS NOT NULL
                                     AND cancellation_reason IS NOT NULL))
);
INSERT INTO disbursement_batches_rebuilt
    (id, programme, year, period, region_code, status, release_at, prepared_by, prepared_at, approved_by,
     approved_at, completed_at, lines_total, amount_total_minor, paid_lines, paid_amount_minor, failed_lines)
SELECT id, programme, year, period, region_code, status, release_at, prepared_by, prepared_at, approved_by,
       approved_at, completed_at, lines_total, amount_total_minor, paid_lines, paid_amount_minor, failed_lines
FROM disbursement_batches;
DROP TABLE disbursement_batches;
ALTER TABLE disbursement_batches_rebuilt RENAME TO disbursement_batches;

-- Before this migration a second batch for a stage already prepared was accepted (empty,
-- or with the families registered since). Such a twin, not executing yet, is cancelled
-- and its lines freed, keeping the executing one or else the oldest; no money moved for
-- it. Two executing twins would stop the index below: finish them first.
UPDATE disbursement_batches
SET status = 'cancelled', cancelled_by = 'system:migration', cancelled_at = CURRENT_TIMESTAMP,
    cancellation_reason = 'a second live batch for the same period and region'
WHERE status IN ('prepared', 'approved') AND EXISTS (
    SELECT 1 FROM disbursement_batches twin
    WHERE twin.programme = disbursement_batches.programme AND twin.year = disbursement_batches.year
      AND twin.period = disbursement_batches.period
      AND COALESCE(twin.region_code, '') = COALESCE(disbursement_batches.region_code, '')
      AND (twin.status = 'executing' OR (twin.status IN ('prepared', 'approved') AND twin.id < disbursement_batches.id)));
DELETE FROM disbursement_lines
WHERE batch_id IN (SELECT id FROM disbursement_batches WHERE status = 'cancelled');

-- National batches have no region: COALESCE makes them one key too.
CREATE UNIQUE INDEX disbursement_batches_live ON disbursement_batches (programme, year, period, COALESCE(region_code, ''))
    WHERE status IN ('preparing', 'prepared', 'approved', 'executing');

-- Every reference still leads somewhere, or the insert fails and nothing is committed.
CREATE TEMP TABLE migration_dangling_references (references_count INTEGER NOT NULL CHECK (references_count = 0));
INSERT INTO migration_dangling_references SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE migration_dangling_references;

COMMIT;
PRAGMA foreign_keys = ON;
