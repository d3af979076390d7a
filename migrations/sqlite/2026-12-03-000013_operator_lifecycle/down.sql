DROP INDEX operators_region_code;
ALTER TABLE operators DROP COLUMN password_change_required;
ALTER TABLE operators DROP COLUMN disabled_at;
