DROP INDEX disbursement_lines_failed;
ALTER TABLE disbursement_batches DROP COLUMN failed_lines;
ALTER TABLE disbursement_batches DROP COLUMN paid_amount_minor;
ALTER TABLE disbursement_batches DROP COLUMN paid_lines;
