-- Blocks are dropped, not turned back into holds: go down only on a database that has none.
DROP INDEX accounts_blocked;
ALTER TABLE accounts DROP COLUMN blocked_at;
ALTER TABLE accounts DROP COLUMN blocked_by;
ALTER TABLE accounts DROP COLUMN blocked_reference;
ALTER TABLE accounts DROP COLUMN blocked_reason;
