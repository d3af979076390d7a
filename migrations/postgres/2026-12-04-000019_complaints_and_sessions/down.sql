DROP TABLE p2k2_attendance;
DROP TABLE p2k2_sessions;
DROP TABLE complaint_events;
DROP TABLE complaints;
