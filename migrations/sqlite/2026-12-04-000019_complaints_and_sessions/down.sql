DROP TABLE family_changes;
ALTER TABLE family_members DROP COLUMN ended_at;
ALTER TABLE family_members DROP COLUMN ended_reason;
DROP TABLE p2k2_attendance;
DROP TABLE p2k2_sessions;
DROP TABLE complaint_events;
DROP TABLE complaints;
