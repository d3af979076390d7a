ALTER TABLE family_members DROP COLUMN nik;
DROP INDEX families_natural_exit_due;
ALTER TABLE families DROP COLUMN natural_exit_due;
ALTER TABLE families DROP COLUMN health_facility;
ALTER TABLE family_changes DROP COLUMN decision_reason;
ALTER TABLE family_changes DROP COLUMN decided_at;
ALTER TABLE family_changes DROP COLUMN decided_by;
ALTER TABLE family_changes DROP COLUMN status;
