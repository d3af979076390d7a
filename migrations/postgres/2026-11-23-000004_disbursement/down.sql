DROP TABLE cycle_outcomes;
DROP TABLE verification_records;
DROP TABLE disbursement_lines;
DROP TABLE disbursement_batches;
DROP TABLE benefit_schedules;
