-- Journals whose postings the posting code sums into the monitoring tables itself. Only
-- SQLite lists any (its triggers run per row; see its folder): PostgreSQL's statement
-- triggers already sum a chunk's postings at once. Kept here so the two schemas match.
CREATE TABLE monitoring_summed_journals (journal_id BIGINT PRIMARY KEY);
