-- Benefit schedules, stage disbursement batches and the conditionality cycle.
-- Keep in step with the other backend's folder: the two share one schema.

-- What a family receives, per programme, year, benefit category and period: data, not
-- code, so an operator adds next year's schedule. PKH pays in four stages; BPNT and LPG
-- monthly (category 'all').
CREATE TABLE benefit_schedules (
    programme TEXT NOT NULL CHECK (programme IN ('pkh', 'bpnt', 'lpg')),
    year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    category TEXT NOT NULL CHECK (category IN ('all', 'regular', 'elderly', 'severe_disability', 'papua')),
    period INTEGER NOT NULL CHECK (period BETWEEN 1 AND 12),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    PRIMARY KEY (programme, year, category, period)
);

INSERT INTO benefit_schedules (programme, year, category, period, amount_minor) VALUES
    ('pkh', 2017, 'regular', 1, 50000000), ('pkh', 2017, 'regular', 2, 50000000),
    ('pkh', 2017, 'regular', 3, 50000000), ('pkh', 2017, 'regular', 4, 39000000),
    ('pkh', 2017, 'elderly', 1, 50000000), ('pkh', 2017, 'elderly', 2, 50000000),
    ('pkh', 2017, 'elderly', 3, 50000000), ('pkh', 2017, 'elderly', 4, 50000000),
    ('pkh', 2017, 'severe_disability', 1, 50000000), ('pkh', 2017, 'severe_disability', 2, 50000000),
    ('pkh', 2017, 'severe_disability', 3, 50000000), ('pkh', 2017, 'severe_disability', 4, 50000000),
    ('pkh', 2017, 'papua', 1, 50000000), ('pkh', 2017, 'papua', 2, 50000000),
    ('pkh', 2017, 'papua', 3, 50000000), ('pkh', 2017, 'papua', 4, 50000000),
    ('bpnt', 2017, 'all', 1, 11000000), ('bpnt', 2017, 'all', 2, 11000000), ('bpnt', 2017, 'all', 3, 11000000),
    ('bpnt', 2017, 'all', 4, 11000000), ('bpnt', 2017, 'all', 5, 11000000), ('bpnt', 2017, 'all', 6, 11000000),
    ('bpnt', 2017, 'all', 7, 11000000), ('bpnt', 2017, 'all', 8, 11000000), ('bpnt', 2017, 'all', 9, 11000000),
    ('bpnt', 2017, 'all', 10, 11000000), ('bpnt', 2017, 'all', 11, 11000000), ('bpnt', 2017, 'all', 12, 11000000),
    ('lpg', 2017, 'all', 1, 4050000), ('lpg', 2017, 'all', 2, 4050000), ('lpg', 2017, 'all', 3, 4050000),
    ('lpg', 2017, 'all', 4, 4050000), ('lpg', 2017, 'all', 5, 4050000), ('lpg', 2017, 'all', 6, 4050000),
    ('lpg', 2017, 'all', 7, 4050000), ('lpg', 2017, 'all', 8, 4050000), ('lpg', 2017, 'all', 9, 4050000),
    ('lpg', 2017, 'all', 10, 4050000), ('lpg', 2017, 'all', 11, 4050000), ('lpg', 2017, 'all', 12, 4050000);

-- A batch pays one programme for one period to every eligible family, once. Prepared by
-- an operator, approved by a different supervisor, executed in chunks.
CREATE TABLE disbursement_batches (
    id INTEGER PRIMARY KEY,
    programme TEXT NOT NULL CHECK (programme IN ('pkh', 'bpnt', 'lpg')),
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    region_code TEXT REFERENCES regions (code),
    status TEXT NOT NULL CHECK (status IN ('prepared', 'approved', 'executing', 'completed')),
    -- A stage credited in advance is held until this moment.
    release_at TIMESTAMP,
    prepared_by TEXT NOT NULL,
    prepared_at TIMESTAMP NOT NULL,
    approved_by TEXT,
    approved_at TIMESTAMP,
    completed_at TIMESTAMP,
    lines_total BIGINT NOT NULL DEFAULT 0,
    amount_total_minor BIGINT NOT NULL DEFAULT 0,
    CHECK (approved_by IS NULL OR approved_by <> prepared_by)
);

-- One line per family and period: the unique key makes "exactly once" a property of the
-- database, whatever batch or server tries to pay it.
CREATE TABLE disbursement_lines (
    id INTEGER PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES disbursement_batches (id),
    programme TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    family_id BIGINT NOT NULL REFERENCES families (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    failure_reason TEXT,
    journal_id BIGINT REFERENCES journals (id),
    paid_at TIMESTAMP,
    UNIQUE (programme, year, period, family_id)
);
CREATE INDEX disbursement_lines_pending ON disbursement_lines (batch_id, id) WHERE status = 'pending';

-- Commitment verification: one record per family and cycle (a stage period, e.g. 2017-2).
CREATE TABLE verification_records (
    family_id BIGINT NOT NULL REFERENCES families (id),
    cycle TEXT NOT NULL,
    complied BOOLEAN NOT NULL,
    member_id BIGINT REFERENCES family_members (id),
    obligation TEXT CHECK (obligation IN ('pregnancy_checkups', 'immunisation_and_weighing', 'school_attendance',
                                          'elderly_care', 'disability_care')),
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (family_id, cycle),
    CHECK (complied OR obligation IS NOT NULL)
);

-- What closing a cycle did to each family: written once, so closing twice changes nothing.
CREATE TABLE cycle_outcomes (
    cycle TEXT NOT NULL,
    family_id BIGINT NOT NULL REFERENCES families (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('suspended', 'released', 'terminated', 'unchanged')),
    failed_cycles_in_row INTEGER NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cycle, family_id)
);
