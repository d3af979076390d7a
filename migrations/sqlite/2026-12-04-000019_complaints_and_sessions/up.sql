-- Complaints from every channel (seed: "Sistem Pengaduan Masyarakat") and P2K2/FDS family
-- sessions with their attendance. Keep in step with migrations/postgres.
CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('operator', 'face_to_face', 'phone', 'postcard', 'dropbox', 'web', 'sms', 'app')),
    category TEXT NOT NULL CHECK (category IN ('stage_not_received', 'wrong_amount', 'card_or_pin', 'agent_fee_or_refusal', 'data_error', 'eligibility', 'other')),
    priority TEXT NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    status TEXT NOT NULL CHECK (status IN ('received', 'in_progress', 'escalated', 'resolved', 'closed', 'rejected')),
    -- NULL: not known yet (an SMS); only national operators see such a complaint.
    region_code TEXT REFERENCES regions (code),
    family_id BIGINT REFERENCES families (id),
    card_number TEXT,
    agent_id BIGINT REFERENCES agents (id),
    edc_reference TEXT,
    -- The investigation hold placed on the agent's settlement account, ended when the
    -- complaint is resolved or rejected.
    hold_id BIGINT REFERENCES holds (id),
    description TEXT NOT NULL,
    contact TEXT NOT NULL,
    assignee TEXT,
    filed_by TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE INDEX complaints_region ON complaints (region_code, id);
CREATE INDEX complaints_family ON complaints (family_id, id);

-- A complaint's timeline: comments, status changes and its one resolution.
CREATE TABLE complaint_events (
    id INTEGER PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    kind TEXT NOT NULL CHECK (kind IN ('filed', 'comment', 'transition', 'resolution')),
    status TEXT NOT NULL,
    text TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);
-- Exactly one resolution per complaint, whatever races.
CREATE UNIQUE INDEX complaint_events_one_resolution ON complaint_events (complaint_id) WHERE kind = 'resolution';

CREATE TABLE p2k2_sessions (
    id INTEGER PRIMARY KEY,
    village_code TEXT NOT NULL REFERENCES regions (code),
    group_name TEXT NOT NULL,
    held_on DATE NOT NULL,
    module TEXT NOT NULL CHECK (module IN ('health', 'education', 'economy', 'child_protection', 'elderly', 'disability')),
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX p2k2_sessions_village ON p2k2_sessions (village_code, id);
-- A group meets once a month on one module.
CREATE UNIQUE INDEX p2k2_sessions_recorded_once ON p2k2_sessions (village_code, group_name, held_on, module);

CREATE TABLE p2k2_attendance (
    session_id BIGINT NOT NULL REFERENCES p2k2_sessions (id),
    family_id BIGINT NOT NULL REFERENCES families (id),
    PRIMARY KEY (session_id, family_id)
);

-- Data updates (pemutakhiran data). A member who leaves keeps its row (verifications name
-- it) with why and when; each change is one row of the family's history.
ALTER TABLE family_members ADD COLUMN ended_reason TEXT;
ALTER TABLE family_members ADD COLUMN ended_at TIMESTAMP;
CREATE TABLE family_changes (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families (id),
    kind TEXT NOT NULL,
    -- What changed, as JSON.
    details TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    -- No member with a PKH component is left: the family is due a natural exit.
    natural_exit_due BOOLEAN NOT NULL
);
CREATE INDEX family_changes_family ON family_changes (family_id, id);
