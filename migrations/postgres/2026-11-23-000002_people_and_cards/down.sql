DROP TRIGGER audit_events_are_append_only ON audit_events;
DROP TABLE audit_events;
DROP TABLE cards;
DROP TABLE family_members;
DROP TABLE families;
DROP TABLE terminals;
DROP TABLE agents;
DROP TABLE operators;
DROP TABLE regions;
