DROP INDEX cards_status_pin_key_version;
ALTER TABLE cards DROP COLUMN pin_key_version;
