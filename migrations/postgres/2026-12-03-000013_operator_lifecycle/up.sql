-- People leave and forget: an admin disables an operator (every token stops at once, the
-- history stays) or resets a password, which the operator must change at next login.
-- Keep in step with migrations/sqlite.
ALTER TABLE operators ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE operators ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX operators_region_code ON operators (region_code, id);
