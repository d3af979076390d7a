-- Agents and terminals registered through the API: who owns the agent, an admin
-- deactivates an agent (every token stops at once, the history stays), a first password
-- set by the admin is replaced at first login, and a terminal carries its device serial.
-- Keep in step with migrations/sqlite.
ALTER TABLE agents ADD COLUMN owner_name TEXT;
ALTER TABLE agents ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE agents ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX agents_village_code ON agents (village_code, id);
ALTER TABLE terminals ADD COLUMN serial TEXT;
CREATE UNIQUE INDEX terminals_serial ON terminals (serial);
