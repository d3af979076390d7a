-- Regions, the people who use KKS (operators, agents, families) and the cards.
-- Keep in step with the other backend's folder: the two share one schema.

-- The official hierarchy, by Kemendagri code: "32" (province), "32.04" (regency/city),
-- "32.04.12" (district), "32.04.12.2001" (village). A code's prefix is its ancestry, so
-- "everything in province 32" is the codes equal to "32" or starting with "32.".
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'regency', 'district', 'village')),
    parent_code TEXT REFERENCES regions (code)
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'admin')),
    -- NULL: national scope.
    region_code TEXT REFERENCES regions (code),
    password_hash TEXT NOT NULL,
    -- Raised to revoke every token issued before (logout, password change).
    token_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bank_agent', 'e_warong')),
    bank TEXT NOT NULL CHECK (bank IN ('bri', 'bni', 'mandiri', 'btn')),
    village_code TEXT NOT NULL REFERENCES regions (code),
    password_hash TEXT NOT NULL,
    token_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE terminals (
    id TEXT PRIMARY KEY,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX terminals_agent ON terminals (agent_id);

CREATE TABLE families (
    id INTEGER PRIMARY KEY,
    nik TEXT NOT NULL UNIQUE,
    recipient_name TEXT NOT NULL,
    address TEXT NOT NULL,
    village_code TEXT NOT NULL REFERENCES regions (code),
    category TEXT NOT NULL CHECK (category IN ('regular', 'elderly', 'severe_disability', 'papua')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'terminated', 'graduated')),
    token_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX families_village ON families (village_code);

CREATE TABLE family_members (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families (id),
    name TEXT NOT NULL,
    component TEXT NOT NULL CHECK (component IN ('pregnant_or_nursing', 'child_under_six', 'school_child',
                                                 'elderly', 'severe_disability')),
    school_level TEXT CHECK (school_level IN ('sd', 'smp', 'sma')),
    CHECK ((component = 'school_child') = (school_level IS NOT NULL))
);
CREATE INDEX family_members_family ON family_members (family_id);

CREATE TABLE cards (
    card_number TEXT PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families (id),
    bank TEXT NOT NULL CHECK (bank IN ('bri', 'bni', 'mandiri', 'btn')),
    -- Raised on each replacement; a QR with an older sequence is refused.
    sequence INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'lost', 'replaced', 'expired')),
    expires_on DATE NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    -- HMAC of the PIN under a key that never enters the database.
    pin_hash TEXT NOT NULL,
    pin_failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (pin_failed_attempts >= 0),
    pin_locked_at TIMESTAMP,
    replaced_by TEXT REFERENCES cards (card_number)
);
-- A family holds at most one usable card.
CREATE UNIQUE INDEX cards_one_active_per_family ON cards (family_id) WHERE status = 'active';

-- Who changed what, when and why. Append-only.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_object ON audit_events (object_kind, object_id, id);

CREATE TRIGGER audit_events_are_immutable BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END;
CREATE TRIGGER audit_events_are_never_deleted BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END;
