DROP TRIGGER postings_are_append_only ON postings;
DROP TRIGGER journals_are_append_only ON journals;
DROP FUNCTION refuse_append_only_change();
DROP TABLE idempotency_records;
DROP TABLE holds;
DROP TABLE postings;
DROP TABLE journals;
DROP TABLE accounts;
