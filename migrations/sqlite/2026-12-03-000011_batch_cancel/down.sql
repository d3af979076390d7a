-- Back to batches that cannot be cancelled: cancelled batches (their lines were freed, no
-- money moved) are removed, and one being prepared counts as prepared. Rebuilt like up.sql.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

DELETE FROM disbursement_lines
WHERE batch_id IN (SELECT id FROM disbursement_batches WHERE status = 'cancelled');
DELETE FROM disbursement_batches WHERE status = 'cancelled';
UPDATE disbursement_batches SET status = 'prepared' WHERE status = 'preparing';

CREATE TABLE disbursement_batches_rebuilt (
    id INTEGER PRIMARY KEY,
    programme TEXT NOT NULL CHECK (programme IN ('pkh', 'bpnt', 'lpg')),
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    region_code TEXT REFERENCES regions (code),
    status TEXT NOT NULL CHECK (status IN ('prepared', 'approved', 'executing', 'completed')),
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
    CHECK (approved_by IS NULL OR approved_by <> prepared_by)
);
INSERT INTO disbursement_batches_rebuilt
    (id, programme, year, period, region_code, status, release_at, prepared_by, prepared_at, approved_by,
     approved_at, completed_at, lines_total, amount_total_minor, paid_lines, paid_amount_minor, failed_lines)
SELECT id, programme, year, period, region_code, status, release_at, prepared_by, prepared_at, approved_by,
       approved_at, completed_at, lines_total, amount_total_minor, paid_lines, paid_amount_minor, failed_lines
FROM disbursement_batches;
DROP TABLE disbursement_batches;
ALTER TABLE disbursement_batches_rebuilt RENAME TO disbursement_batches;

CREATE TEMP TABLE migration_dangling_references (references_count INTEGER NOT NULL CHECK (references_count = 0));
INSERT INTO migration_dangling_references SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE migration_dangling_references;

COMMIT;
PRAGMA foreign_keys = ON;
