DROP INDEX terminals_serial;
ALTER TABLE terminals DROP COLUMN serial;
DROP INDEX agents_village_code;
ALTER TABLE agents DROP COLUMN password_change_required;
ALTER TABLE agents DROP COLUMN disabled_at;
ALTER TABLE agents DROP COLUMN owner_name;
