DROP INDEX disbursement_lines_failed;
ALTER TABLE disbursement_batches DROP COLUMN failed_lines, DROP COLUMN paid_amount_minor, DROP COLUMN paid_lines;
