-- A batch can be cancelled until it executes (its lines are freed for another batch), and
-- a batch is live while it is being prepared, prepared, approved or executing: one live
-- batch at a time for a programme, year, period and region, enforced by the unique index
-- below, so two servers preparing the same stage at once cannot both succeed.
-- Keep in step with the other backend's folder: the two share one schema.
ALTER TABLE disbursement_batches
    DROP CONSTRAINT disbursement_batches_status_check,
    ADD CONSTRAINT disbursement_batches_status_check
        CHECK (status IN ('preparing', 'prepared', 'approved', 'executing', 'completed', 'cancelled')),
    ADD COLUMN cancelled_by TEXT,
    ADD COLUMN cancelled_at TIMESTAMP,
    ADD COLUMN cancellation_reason TEXT,
    ADD CONSTRAINT disbursement_batches_cancellation_check
        CHECK (status <> 'cancelled' OR (cancelled_by IS NOT NULL AND cancelled_at IS NOT NULL
                                         AND cancellation_reason IS NOT NULL));

-- Before this migration a second batch for a stage already prepared was accepted (empty,
-- or with the families registered since). Such a twin, not executing yet, is cancelled
-- and its lines freed, keeping the executing one or else the oldest; no money moved for
-- it. Two executing twins would stop the index below: finish them first.
UPDATE disbursement_batches
SET status = 'cancelled', cancelled_by = 'system:migration', cancelled_at = now() AT TIME ZONE 'UTC',
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
