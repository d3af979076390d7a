-- Nothing changes on SQLite: this step rewrote PostgreSQL's statement trigger on postings,
-- and SQLite's triggers run per row. Kept so both folders have the same steps.
SELECT 1;
