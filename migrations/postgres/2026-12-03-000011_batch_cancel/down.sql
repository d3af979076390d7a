-- Back to batches that cannot be cancelled: cancelled batches (their lines were freed, no
-- money moved) are removed, and one being prepared counts as prepared.
DROP INDEX disbursement_batches_live;
DELETE FROM disbursement_lines
WHERE batch_id IN (SELECT id FROM disbursement_batches WHERE status = 'cancelled');
DELETE FROM disbursement_batches WHERE status = 'cancelled';
UPDATE disbursement_batches SET status = 'prepared' WHERE status = 'preparing';
ALTER TABLE disbursement_batches
    DROP CONSTRAINT disbursement_batches_cancellation_check,
    DROP COLUMN cancellation_reason,
    DROP COLUMN cancelled_at,
    DROP COLUMN cancelled_by,
    DROP CONSTRAINT disbursement_batches_status_check,
    ADD CONSTRAINT disbursement_batches_status_check CHECK (status IN ('prepared', 'approved', 'executing', 'completed'));
