-- Idempotency answers expire after a retention (`--idempotency-retention-hours`): a
-- background task deletes the oldest in bounded batches, found by this index. The EDC
-- record, the journal and the STAN's slot stay; only the stored answer to a retry goes.
-- Keep in step with migrations/postgres.
CREATE INDEX idempotency_records_created_at ON idempotency_records (created_at);
