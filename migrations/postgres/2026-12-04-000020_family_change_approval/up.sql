-- Data updates that need a second person (a new recipient, a move to another regency)
-- wait as 'pending' until an approver applies or rejects them; the decision is kept on
-- the change (who, when, why). A family's health facility and its members' NIKs are
-- data the updates correct. `natural_exit_due` on the family is the flag the last
-- applied change set: the next cycle close records the natural exit.
-- Keep in step with migrations/sqlite.
ALTER TABLE family_changes ADD COLUMN status TEXT NOT NULL DEFAULT 'applied'
    CHECK (status IN ('applied', 'pending', 'rejected'));
ALTER TABLE family_changes ADD COLUMN decided_by TEXT;
ALTER TABLE family_changes ADD COLUMN decided_at TIMESTAMP;
ALTER TABLE family_changes ADD COLUMN decision_reason TEXT;
ALTER TABLE families ADD COLUMN health_facility TEXT;
ALTER TABLE families ADD COLUMN natural_exit_due BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX families_natural_exit_due ON families (id) WHERE natural_exit_due;
ALTER TABLE family_members ADD COLUMN nik TEXT;
