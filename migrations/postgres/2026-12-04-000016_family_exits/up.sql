-- A family's graduation or exit from PKH (seed: "Monitoring KPM graduasi (alamiah, exit
-- mandiri)"): one row per family, written in the same transaction that sets
-- families.status to 'graduated'. The year in, year out and reason are the monitoring
-- form's columns; `non_cash_continues` says whether BPNT and LPG keep paying the family.
-- Keep in step with migrations/sqlite.
CREATE TABLE family_exits (
    family_id BIGINT PRIMARY KEY REFERENCES families (id),
    kind TEXT NOT NULL CHECK (kind IN ('graduation', 'natural_exit', 'self_exit')),
    reason TEXT NOT NULL CHECK (reason IN ('sudah_mampu', 'usaha_berkembang_pesat', 'sudah_tidak_ada_komponen_pkh')),
    year_in INTEGER NOT NULL,
    year_out INTEGER NOT NULL CHECK (year_out >= year_in),
    non_cash_continues BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX family_exits_reason ON family_exits (reason);
