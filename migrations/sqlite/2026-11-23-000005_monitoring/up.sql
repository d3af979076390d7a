-- Monitoring aggregates for the realtime dashboard, kept up to date by triggers in the
-- same transaction as the postings, holds and records they summarise, so a figure is
-- never older than the ledger and no request scans the journal.
-- Keep in step with the other backend's folder: the two share one schema.
--
-- Every regional aggregate has one row per level of the family's village: province
-- ("32"), regency ("32.04"), district ("32.04.12") and village ("32.04.12.2001"), the
-- prefixes of the village code (monitoring_region_widths). A region's figure is then one
-- index look-up, and the national one the sum over the provinces. Rows are fine-grained
-- (per pocket, journal kind and business day) so concurrent writers rarely meet on a row.

-- The widths of a region code's levels: province "32" (2), regency "32.04" (5), district
-- "32.04.12" (8), village "32.04.12.2001" (13). A village's regions are its prefixes.
CREATE TABLE monitoring_region_widths (width INTEGER PRIMARY KEY);
INSERT INTO monitoring_region_widths (width) VALUES (2), (5), (8), (13);

-- Money in and out of families' pockets. `journal_kind` is the kind of the journal, or
-- for a reversal the kind of the journal it reverses (so a reversed withdrawal nets to
-- nothing); `amount_minor` is signed as posted (credits positive); `entries` counts
-- postings, a reversal counting −1. The business day is the date in WIB (UTC+7).
-- `shard` is the family id modulo 8: the postings of one province, pocket, kind and day
-- spread over 8 rows, so concurrent card transactions rarely wait on one row lock.
CREATE TABLE monitoring_flows (
    region_code TEXT NOT NULL,
    pocket TEXT NOT NULL,
    journal_kind TEXT NOT NULL,
    business_day DATE NOT NULL,
    shard INTEGER NOT NULL,
    amount_minor BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (region_code, pocket, journal_kind, business_day, shard)
);

-- The same, all days together: the headline figures and the drill-down read these, so
-- their cost does not grow with the history (the daily rows serve the charts).
CREATE TABLE monitoring_flow_totals (
    region_code TEXT NOT NULL,
    pocket TEXT NOT NULL,
    journal_kind TEXT NOT NULL,
    shard INTEGER NOT NULL,
    amount_minor BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (region_code, pocket, journal_kind, shard)
);

-- The same per family, all days together: the family page, and the source of the
-- family counts below.
CREATE TABLE monitoring_family_flows (
    family_id BIGINT NOT NULL,
    pocket TEXT NOT NULL,
    journal_kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (family_id, pocket, journal_kind)
);

-- How many families have a non-zero net flow of a kind on a pocket (credited,
-- withdrew cash, moved PKH money to savings…), per region.
CREATE TABLE monitoring_reach (
    region_code TEXT NOT NULL,
    pocket TEXT NOT NULL,
    journal_kind TEXT NOT NULL,
    shard INTEGER NOT NULL,
    families BIGINT NOT NULL,
    PRIMARY KEY (region_code, pocket, journal_kind, shard)
);

-- Money through an agent's settlement account per business day (cash paid out, goods
-- sold), and how many postings.
CREATE TABLE monitoring_agent_days (
    business_day DATE NOT NULL,
    agent_id BIGINT NOT NULL,
    journal_kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (business_day, agent_id, journal_kind)
);

-- Money held now on families' pockets, per region, pocket and reason.
CREATE TABLE monitoring_holds (
    region_code TEXT NOT NULL,
    pocket TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    holds BIGINT NOT NULL,
    PRIMARY KEY (region_code, pocket, reason)
);

-- Families per status (active, suspended, terminated, graduated), per region.
CREATE TABLE monitoring_family_statuses (
    region_code TEXT NOT NULL,
    status TEXT NOT NULL,
    families BIGINT NOT NULL,
    PRIMARY KEY (region_code, status)
);

-- Commitment verification per cycle: `result` is 'complied' or the failed obligation.
-- A CSV upload records up to 100,000 families in one transaction, so its rows are spread
-- over 64 shards (family id modulo 64): on PostgreSQL a row updated many times in one
-- transaction gets slower with every update.
CREATE TABLE monitoring_verifications (
    region_code TEXT NOT NULL,
    cycle TEXT NOT NULL,
    result TEXT NOT NULL,
    shard INTEGER NOT NULL,
    families BIGINT NOT NULL,
    PRIMARY KEY (region_code, cycle, result, shard)
);

-- What closing each cycle decided (suspended, released, terminated, unchanged).
CREATE TABLE monitoring_cycle_outcomes (
    region_code TEXT NOT NULL,
    cycle TEXT NOT NULL,
    outcome TEXT NOT NULL,
    families BIGINT NOT NULL,
    PRIMARY KEY (region_code, cycle, outcome)
);

-- Settled disbursement lines per stage: by the family's benefit category, the line's
-- status (paid or failed), the business day it was settled and the line's amount, so
-- that "on time" (settled by the period's due date) and "right amount" (the schedule's
-- amount for the category) are decided when read, by the rules in the code.
CREATE TABLE monitoring_stage_payments (
    region_code TEXT NOT NULL,
    programme TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    settled_day DATE NOT NULL,
    line_amount_minor BIGINT NOT NULL,
    families BIGINT NOT NULL,
    PRIMARY KEY (region_code, programme, year, period, category, status, settled_day, line_amount_minor)
);

-- A facilitator (pendamping) and the villages of the families they accompany, for the
-- indicators per facilitator area.
CREATE TABLE facilitators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The smallest region holding every village of the area (who may see it).
    region_code TEXT NOT NULL REFERENCES regions (code),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX facilitators_region ON facilitators (region_code);

CREATE TABLE facilitator_villages (
    facilitator_id BIGINT NOT NULL REFERENCES facilitators (id),
    village_code TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (facilitator_id, village_code)
);

-- Backfill from what the database holds already, before the triggers exist.
INSERT INTO monitoring_flows (region_code, pocket, journal_kind, business_day, shard, amount_minor, entries)
SELECT substr(f.village_code, 1, levels.width), a.kind, COALESCE(o.kind, j.kind), date(j.posted_at, '+7 hours'),
       f.id % 8, SUM(p.amount_minor), SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END)
FROM postings p
JOIN accounts a ON a.id = p.account_id AND a.owner_kind = 'family'
JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
JOIN journals j ON j.id = p.journal_id
LEFT JOIN journals o ON o.id = j.reverses_journal_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO monitoring_flow_totals (region_code, pocket, journal_kind, shard, amount_minor, entries)
SELECT region_code, pocket, journal_kind, shard, SUM(amount_minor), SUM(entries)
FROM monitoring_flows GROUP BY region_code, pocket, journal_kind, shard;

INSERT INTO monitoring_family_flows (family_id, pocket, journal_kind, amount_minor, entries)
SELECT CAST(a.owner_id AS INTEGER), a.kind, COALESCE(o.kind, j.kind),
       SUM(p.amount_minor), SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END)
FROM postings p
JOIN accounts a ON a.id = p.account_id AND a.owner_kind = 'family'
JOIN journals j ON j.id = p.journal_id
LEFT JOIN journals o ON o.id = j.reverses_journal_id
GROUP BY 1, 2, 3;

INSERT INTO monitoring_reach (region_code, pocket, journal_kind, shard, families)
SELECT substr(f.village_code, 1, levels.width), ff.pocket, ff.journal_kind, f.id % 8, COUNT(*)
FROM monitoring_family_flows ff
JOIN families f ON f.id = ff.family_id
CROSS JOIN monitoring_region_widths levels
WHERE ff.amount_minor <> 0
GROUP BY 1, 2, 3, 4;

INSERT INTO monitoring_agent_days (business_day, agent_id, journal_kind, amount_minor, entries)
SELECT date(j.posted_at, '+7 hours'), CAST(a.owner_id AS INTEGER), COALESCE(o.kind, j.kind),
       SUM(p.amount_minor), SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END)
FROM postings p
JOIN accounts a ON a.id = p.account_id AND a.owner_kind = 'agent'
JOIN journals j ON j.id = p.journal_id
LEFT JOIN journals o ON o.id = j.reverses_journal_id
GROUP BY 1, 2, 3;

INSERT INTO monitoring_holds (region_code, pocket, reason, amount_minor, holds)
SELECT substr(f.village_code, 1, levels.width), a.kind, h.reason, SUM(h.amount_minor), COUNT(*)
FROM holds h
JOIN accounts a ON a.id = h.account_id AND a.owner_kind = 'family'
JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
CROSS JOIN monitoring_region_widths levels
WHERE h.status = 'active'
GROUP BY 1, 2, 3;

INSERT INTO monitoring_family_statuses (region_code, status, families)
SELECT substr(f.village_code, 1, levels.width), f.status, COUNT(*)
FROM families f
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2;

INSERT INTO monitoring_verifications (region_code, cycle, result, shard, families)
SELECT substr(f.village_code, 1, levels.width), v.cycle,
       CASE WHEN v.complied THEN 'complied' ELSE COALESCE(v.obligation, 'unspecified') END, v.family_id % 64, COUNT(*)
FROM verification_records v
JOIN families f ON f.id = v.family_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3, 4;

INSERT INTO monitoring_cycle_outcomes (region_code, cycle, outcome, families)
SELECT substr(f.village_code, 1, levels.width), c.cycle, c.outcome, COUNT(*)
FROM cycle_outcomes c
JOIN families f ON f.id = c.family_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3;

INSERT INTO monitoring_stage_payments
    (region_code, programme, year, period, category, status, settled_day, line_amount_minor, families)
SELECT substr(f.village_code, 1, levels.width), l.programme, l.year, l.period, f.category, l.status,
       date(COALESCE(l.paid_at, datetime('now')), '+7 hours'), l.amount_minor, COUNT(*)
FROM disbursement_lines l
JOIN families f ON f.id = l.family_id
CROSS JOIN monitoring_region_widths levels
WHERE l.status IN ('paid', 'failed')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- The triggers. Each WHERE below also makes SQLite parse the upsert after a SELECT. The
-- business day is the date in WIB: the stored UTC date before 17:00, else the next day
-- (date() is slow enough to matter on every posting).

CREATE TRIGGER monitoring_family_posting AFTER INSERT ON postings
WHEN (SELECT owner_kind FROM accounts WHERE id = NEW.account_id) = 'family'
BEGIN
    INSERT INTO monitoring_flows (region_code, pocket, journal_kind, business_day, shard, amount_minor, entries)
    SELECT substr(f.village_code, 1, levels.width), a.kind, COALESCE(o.kind, j.kind),
           CASE WHEN substr(j.posted_at, 12, 2) < '17' THEN substr(j.posted_at, 1, 10) ELSE date(j.posted_at, '+7 hours') END,
           f.id % 8, NEW.amount_minor, CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END
    FROM accounts a
    JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
    JOIN journals j ON j.id = NEW.journal_id
    LEFT JOIN journals o ON o.id = j.reverses_journal_id
    CROSS JOIN monitoring_region_widths levels
    WHERE a.id = NEW.account_id
    ON CONFLICT (region_code, pocket, journal_kind, business_day, shard) DO UPDATE
        SET amount_minor = amount_minor + excluded.amount_minor, entries = entries + excluded.entries;
    INSERT INTO monitoring_flow_totals (region_code, pocket, journal_kind, shard, amount_minor, entries)
    SELECT substr(f.village_code, 1, levels.width), a.kind, COALESCE(o.kind, j.kind), f.id % 8,
           NEW.amount_minor, CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END
    FROM accounts a
    JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
    JOIN journals j ON j.id = NEW.journal_id
    LEFT JOIN journals o ON o.id = j.reverses_journal_id
    CROSS JOIN monitoring_region_widths levels
    WHERE a.id = NEW.account_id
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE
        SET amount_minor = amount_minor + excluded.amount_minor, entries = entries + excluded.entries;
    INSERT INTO monitoring_family_flows (family_id, pocket, journal_kind, amount_minor, entries)
    SELECT f.id, a.kind, COALESCE(o.kind, j.kind),
           NEW.amount_minor, CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END
    FROM accounts a
    JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
    JOIN journals j ON j.id = NEW.journal_id
    LEFT JOIN journals o ON o.id = j.reverses_journal_id
    WHERE a.id = NEW.account_id
    ON CONFLICT (family_id, pocket, journal_kind) DO UPDATE
        SET amount_minor = amount_minor + excluded.amount_minor, entries = entries + excluded.entries;
END;

CREATE TRIGGER monitoring_agent_posting AFTER INSERT ON postings
WHEN (SELECT owner_kind FROM accounts WHERE id = NEW.account_id) = 'agent'
BEGIN
    INSERT INTO monitoring_agent_days (business_day, agent_id, journal_kind, amount_minor, entries)
    SELECT CASE WHEN substr(j.posted_at, 12, 2) < '17' THEN substr(j.posted_at, 1, 10) ELSE date(j.posted_at, '+7 hours') END, CAST(a.owner_id AS INTEGER), COALESCE(o.kind, j.kind),
           NEW.amount_minor, CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END
    FROM accounts a
    JOIN journals j ON j.id = NEW.journal_id
    LEFT JOIN journals o ON o.id = j.reverses_journal_id
    WHERE a.id = NEW.account_id
    ON CONFLICT (business_day, agent_id, journal_kind) DO UPDATE
        SET amount_minor = amount_minor + excluded.amount_minor, entries = entries + excluded.entries;
END;

-- A family starts or stops counting for a flow when its net amount leaves or returns to zero.
CREATE TRIGGER monitoring_reach_first AFTER INSERT ON monitoring_family_flows
WHEN NEW.amount_minor <> 0
BEGIN
    INSERT INTO monitoring_reach (region_code, pocket, journal_kind, shard, families)
    SELECT substr(f.village_code, 1, levels.width), NEW.pocket, NEW.journal_kind, f.id % 8, 1
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_reach_change AFTER UPDATE OF amount_minor ON monitoring_family_flows
WHEN (OLD.amount_minor = 0) <> (NEW.amount_minor = 0)
BEGIN
    INSERT INTO monitoring_reach (region_code, pocket, journal_kind, shard, families)
    SELECT substr(f.village_code, 1, levels.width), NEW.pocket, NEW.journal_kind, f.id % 8,
           CASE WHEN NEW.amount_minor = 0 THEN -1 ELSE 1 END
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_hold_placed AFTER INSERT ON holds
WHEN NEW.status = 'active'
BEGIN
    INSERT INTO monitoring_holds (region_code, pocket, reason, amount_minor, holds)
    SELECT substr(f.village_code, 1, levels.width), a.kind, NEW.reason, NEW.amount_minor, 1
    FROM accounts a
    JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
    CROSS JOIN monitoring_region_widths levels
    WHERE a.id = NEW.account_id AND a.owner_kind = 'family'
    ON CONFLICT (region_code, pocket, reason) DO UPDATE
        SET amount_minor = amount_minor + excluded.amount_minor, holds = holds + excluded.holds;
END;

CREATE TRIGGER monitoring_hold_ended AFTER UPDATE OF status ON holds
WHEN OLD.status = 'active' AND NEW.status <> 'active'
BEGIN
    INSERT INTO monitoring_holds (region_code, pocket, reason, amount_minor, holds)
    SELECT substr(f.village_code, 1, levels.width), a.kind, OLD.reason, -OLD.amount_minor, -1
    FROM accounts a
    JOIN families f ON f.id = CAST(a.owner_id AS INTEGER)
    CROSS JOIN monitoring_region_widths levels
    WHERE a.id = OLD.account_id AND a.owner_kind = 'family'
    ON CONFLICT (region_code, pocket, reason) DO UPDATE
        SET amount_minor = amount_minor + excluded.amount_minor, holds = holds + excluded.holds;
END;

CREATE TRIGGER monitoring_family_registered AFTER INSERT ON families
BEGIN
    INSERT INTO monitoring_family_statuses (region_code, status, families)
    SELECT substr(NEW.village_code, 1, levels.width), NEW.status, 1
    FROM monitoring_region_widths levels
    WHERE true
    ON CONFLICT (region_code, status) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_family_changed AFTER UPDATE OF status, village_code ON families
WHEN OLD.status <> NEW.status OR OLD.village_code <> NEW.village_code
BEGIN
    INSERT INTO monitoring_family_statuses (region_code, status, families)
    SELECT substr(OLD.village_code, 1, levels.width), OLD.status, -1
    FROM monitoring_region_widths levels
    WHERE true
    ON CONFLICT (region_code, status) DO UPDATE SET families = families + excluded.families;
    INSERT INTO monitoring_family_statuses (region_code, status, families)
    SELECT substr(NEW.village_code, 1, levels.width), NEW.status, 1
    FROM monitoring_region_widths levels
    WHERE true
    ON CONFLICT (region_code, status) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_verification_recorded AFTER INSERT ON verification_records
BEGIN
    INSERT INTO monitoring_verifications (region_code, cycle, result, shard, families)
    SELECT substr(f.village_code, 1, levels.width), NEW.cycle,
           CASE WHEN NEW.complied THEN 'complied' ELSE COALESCE(NEW.obligation, 'unspecified') END, NEW.family_id % 64, 1
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, cycle, result, shard) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_verification_corrected AFTER UPDATE ON verification_records
BEGIN
    INSERT INTO monitoring_verifications (region_code, cycle, result, shard, families)
    SELECT substr(f.village_code, 1, levels.width), OLD.cycle,
           CASE WHEN OLD.complied THEN 'complied' ELSE COALESCE(OLD.obligation, 'unspecified') END, OLD.family_id % 64, -1
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = OLD.family_id
    ON CONFLICT (region_code, cycle, result, shard) DO UPDATE SET families = families + excluded.families;
    INSERT INTO monitoring_verifications (region_code, cycle, result, shard, families)
    SELECT substr(f.village_code, 1, levels.width), NEW.cycle,
           CASE WHEN NEW.complied THEN 'complied' ELSE COALESCE(NEW.obligation, 'unspecified') END, NEW.family_id % 64, 1
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, cycle, result, shard) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_cycle_decided AFTER INSERT ON cycle_outcomes
BEGIN
    INSERT INTO monitoring_cycle_outcomes (region_code, cycle, outcome, families)
    SELECT substr(f.village_code, 1, levels.width), NEW.cycle, NEW.outcome, 1
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, cycle, outcome) DO UPDATE SET families = families + excluded.families;
END;

CREATE TRIGGER monitoring_line_settled AFTER UPDATE OF status ON disbursement_lines
WHEN OLD.status = 'pending' AND NEW.status IN ('paid', 'failed')
BEGIN
    INSERT INTO monitoring_stage_payments
        (region_code, programme, year, period, category, status, settled_day, line_amount_minor, families)
    SELECT substr(f.village_code, 1, levels.width), NEW.programme, NEW.year, NEW.period, f.category, NEW.status,
           date(COALESCE(NEW.paid_at, datetime('now')), '+7 hours'), NEW.amount_minor, 1
    FROM families f
    CROSS JOIN monitoring_region_widths levels
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, programme, year, period, category, status, settled_day, line_amount_minor) DO UPDATE
        SET families = families + excluded.families;
END;
