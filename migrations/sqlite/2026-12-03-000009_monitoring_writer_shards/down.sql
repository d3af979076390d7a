-- Nothing changes on SQLite: this step gave PostgreSQL's postings trigger a shard per
-- connection and a generic plan; SQLite has one writer. Kept so both folders have the
-- same steps.
SELECT 1;
