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
CREATE TABLE monitoring_verifications (
    region_code TEXT NOT NULL,
    cycle TEXT NOT NULL,
    result TEXT NOT NULL,
    families BIGINT NOT NULL,
    PRIMARY KEY (region_code, cycle, result)
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
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
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
SELECT substr(f.village_code, 1, levels.width), a.kind, COALESCE(o.kind, j.kind), CAST(j.posted_at + INTERVAL '7 hours' AS DATE),
       f.id % 8, CAST(SUM(p.amount_minor) AS BIGINT), CAST(SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END) AS BIGINT)
FROM postings p
JOIN accounts a ON a.id = p.account_id AND a.owner_kind = 'family'
JOIN families f ON f.id = CAST(a.owner_id AS BIGINT)
JOIN journals j ON j.id = p.journal_id
LEFT JOIN journals o ON o.id = j.reverses_journal_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO monitoring_flow_totals (region_code, pocket, journal_kind, shard, amount_minor, entries)
SELECT region_code, pocket, journal_kind, shard, CAST(SUM(amount_minor) AS BIGINT), CAST(SUM(entries) AS BIGINT)
FROM monitoring_flows GROUP BY region_code, pocket, journal_kind, shard;

INSERT INTO monitoring_family_flows (family_id, pocket, journal_kind, amount_minor, entries)
SELECT CAST(a.owner_id AS BIGINT), a.kind, COALESCE(o.kind, j.kind),
       CAST(SUM(p.amount_minor) AS BIGINT), CAST(SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END) AS BIGINT)
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
SELECT CAST(j.posted_at + INTERVAL '7 hours' AS DATE), CAST(a.owner_id AS BIGINT), COALESCE(o.kind, j.kind),
       CAST(SUM(p.amount_minor) AS BIGINT), CAST(SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END) AS BIGINT)
FROM postings p
JOIN accounts a ON a.id = p.account_id AND a.owner_kind = 'agent'
JOIN journals j ON j.id = p.journal_id
LEFT JOIN journals o ON o.id = j.reverses_journal_id
GROUP BY 1, 2, 3;

INSERT INTO monitoring_holds (region_code, pocket, reason, amount_minor, holds)
SELECT substr(f.village_code, 1, levels.width), a.kind, h.reason, CAST(SUM(h.amount_minor) AS BIGINT), COUNT(*)
FROM holds h
JOIN accounts a ON a.id = h.account_id AND a.owner_kind = 'family'
JOIN families f ON f.id = CAST(a.owner_id AS BIGINT)
CROSS JOIN monitoring_region_widths levels
WHERE h.status = 'active'
GROUP BY 1, 2, 3;

INSERT INTO monitoring_family_statuses (region_code, status, families)
SELECT substr(f.village_code, 1, levels.width), f.status, COUNT(*)
FROM families f
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2;

INSERT INTO monitoring_verifications (region_code, cycle, result, families)
SELECT substr(f.village_code, 1, levels.width), v.cycle,
       CASE WHEN v.complied THEN 'complied' ELSE COALESCE(v.obligation, 'unspecified') END, COUNT(*)
FROM verification_records v
JOIN families f ON f.id = v.family_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3;

INSERT INTO monitoring_cycle_outcomes (region_code, cycle, outcome, families)
SELECT substr(f.village_code, 1, levels.width), c.cycle, c.outcome, COUNT(*)
FROM cycle_outcomes c
JOIN families f ON f.id = c.family_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3;

INSERT INTO monitoring_stage_payments
    (region_code, programme, year, period, category, status, settled_day, line_amount_minor, families)
SELECT substr(f.village_code, 1, levels.width), l.programme, l.year, l.period, f.category, l.status,
       CAST(COALESCE(l.paid_at, LOCALTIMESTAMP) + INTERVAL '7 hours' AS DATE), l.amount_minor, COUNT(*)
FROM disbursement_lines l
JOIN families f ON f.id = l.family_id
CROSS JOIN monitoring_region_widths levels
WHERE l.status IN ('paid', 'failed')
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- The triggers.

-- The four regions a village lies in, itself included: its prefixes of width 2, 5, 8, 13.
CREATE FUNCTION monitoring_regions_of(village TEXT) RETURNS SETOF TEXT LANGUAGE sql STABLE AS $$
    SELECT substr(village, 1, levels.width) FROM monitoring_region_widths levels
$$;

CREATE FUNCTION monitoring_on_posting() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_owner_kind TEXT;
    v_owner_id BIGINT;
    v_pocket TEXT;
    v_flow TEXT;
    v_day DATE;
    v_entry BIGINT;
BEGIN
    SELECT a.owner_kind, CASE WHEN a.owner_kind = 'system' THEN NULL ELSE CAST(a.owner_id AS BIGINT) END, a.kind
        INTO v_owner_kind, v_owner_id, v_pocket
        FROM accounts a WHERE a.id = NEW.account_id;
    IF v_owner_kind NOT IN ('family', 'agent') THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(o.kind, j.kind), CAST(j.posted_at + INTERVAL '7 hours' AS DATE),
           CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END
        INTO v_flow, v_day, v_entry
        FROM journals j LEFT JOIN journals o ON o.id = j.reverses_journal_id WHERE j.id = NEW.journal_id;
    IF v_owner_kind = 'agent' THEN
        INSERT INTO monitoring_agent_days AS t (business_day, agent_id, journal_kind, amount_minor, entries)
        VALUES (v_day, v_owner_id, v_flow, NEW.amount_minor, v_entry)
        ON CONFLICT (business_day, agent_id, journal_kind) DO UPDATE
            SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries;
        RETURN NULL;
    END IF;
    INSERT INTO monitoring_flows AS t (region_code, pocket, journal_kind, business_day, shard, amount_minor, entries)
    SELECT r.code, v_pocket, v_flow, v_day, v_owner_id % 8, NEW.amount_minor, v_entry
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = v_owner_id
    ON CONFLICT (region_code, pocket, journal_kind, business_day, shard) DO UPDATE
        SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries;
    INSERT INTO monitoring_flow_totals AS t (region_code, pocket, journal_kind, shard, amount_minor, entries)
    SELECT r.code, v_pocket, v_flow, v_owner_id % 8, NEW.amount_minor, v_entry
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = v_owner_id
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE
        SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries;
    INSERT INTO monitoring_family_flows AS t (family_id, pocket, journal_kind, amount_minor, entries)
    VALUES (v_owner_id, v_pocket, v_flow, NEW.amount_minor, v_entry)
    ON CONFLICT (family_id, pocket, journal_kind) DO UPDATE
        SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_posting AFTER INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_posting();

-- A family starts or stops counting for a flow when its net amount leaves or returns to zero.
CREATE FUNCTION monitoring_on_family_flow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_change BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_change := CASE WHEN NEW.amount_minor <> 0 THEN 1 ELSE 0 END;
    ELSE
        v_change := (CASE WHEN NEW.amount_minor <> 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.amount_minor <> 0 THEN 1 ELSE 0 END);
    END IF;
    IF v_change = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO monitoring_reach AS t (region_code, pocket, journal_kind, shard, families)
    SELECT r.code, NEW.pocket, NEW.journal_kind, NEW.family_id % 8, v_change
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE SET families = t.families + EXCLUDED.families;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_family_flow AFTER INSERT OR UPDATE OF amount_minor ON monitoring_family_flows
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_family_flow();

-- Adds (sign 1) or takes away (sign -1) one hold of a family's pocket.
CREATE FUNCTION monitoring_count_hold(p_account_id BIGINT, p_reason TEXT, p_amount_minor BIGINT, p_sign BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO monitoring_holds AS t (region_code, pocket, reason, amount_minor, holds)
    SELECT r.code, a.kind, p_reason, p_sign * p_amount_minor, p_sign
    FROM accounts a
    JOIN families f ON a.owner_kind = 'family' AND f.id = CAST(a.owner_id AS BIGINT)
    CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE a.id = p_account_id
    ON CONFLICT (region_code, pocket, reason) DO UPDATE
        SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, holds = t.holds + EXCLUDED.holds
$$;

CREATE FUNCTION monitoring_on_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.status = 'active' THEN
        PERFORM monitoring_count_hold(NEW.account_id, NEW.reason, NEW.amount_minor, 1);
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'active' AND NEW.status <> 'active' THEN
        PERFORM monitoring_count_hold(OLD.account_id, OLD.reason, OLD.amount_minor, -1);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_hold AFTER INSERT OR UPDATE OF status ON holds
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_hold();

-- Adds (sign 1) or takes away (sign -1) one family of a status in a village.
CREATE FUNCTION monitoring_count_status(p_village TEXT, p_status TEXT, p_sign BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO monitoring_family_statuses AS t (region_code, status, families)
    SELECT r.code, p_status, p_sign FROM monitoring_regions_of(p_village) AS r (code)
    ON CONFLICT (region_code, status) DO UPDATE SET families = t.families + EXCLUDED.families
$$;

CREATE FUNCTION monitoring_on_family() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = NEW.status AND OLD.village_code = NEW.village_code THEN
            RETURN NULL;
        END IF;
        PERFORM monitoring_count_status(OLD.village_code, OLD.status, -1);
    END IF;
    PERFORM monitoring_count_status(NEW.village_code, NEW.status, 1);
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_family AFTER INSERT OR UPDATE OF status, village_code ON families
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_family();

-- Adds (sign 1) or takes away (sign -1) one family's verification result for a cycle.
CREATE FUNCTION monitoring_count_verification(p_family_id BIGINT, p_cycle TEXT, p_result TEXT, p_sign BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO monitoring_verifications AS t (region_code, cycle, result, families)
    SELECT r.code, p_cycle, p_result, p_sign
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = p_family_id
    ON CONFLICT (region_code, cycle, result) DO UPDATE SET families = t.families + EXCLUDED.families
$$;

CREATE FUNCTION monitoring_on_verification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM monitoring_count_verification(OLD.family_id, OLD.cycle,
            CASE WHEN OLD.complied THEN 'complied' ELSE COALESCE(OLD.obligation, 'unspecified') END, -1);
    END IF;
    PERFORM monitoring_count_verification(NEW.family_id, NEW.cycle,
        CASE WHEN NEW.complied THEN 'complied' ELSE COALESCE(NEW.obligation, 'unspecified') END, 1);
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_verification AFTER INSERT OR UPDATE ON verification_records
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_verification();

CREATE FUNCTION monitoring_on_cycle_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO monitoring_cycle_outcomes AS t (region_code, cycle, outcome, families)
    SELECT r.code, NEW.cycle, NEW.outcome, 1
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, cycle, outcome) DO UPDATE SET families = t.families + EXCLUDED.families;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_cycle_outcome AFTER INSERT ON cycle_outcomes
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_cycle_outcome();

CREATE FUNCTION monitoring_on_line_settled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR NEW.status NOT IN ('paid', 'failed') THEN
        RETURN NULL;
    END IF;
    INSERT INTO monitoring_stage_payments AS t
        (region_code, programme, year, period, category, status, settled_day, line_amount_minor, families)
    SELECT r.code, NEW.programme, NEW.year, NEW.period, f.category, NEW.status,
           CAST(COALESCE(NEW.paid_at, LOCALTIMESTAMP) + INTERVAL '7 hours' AS DATE), NEW.amount_minor, 1
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = NEW.family_id
    ON CONFLICT (region_code, programme, year, period, category, status, settled_day, line_amount_minor) DO UPDATE
        SET families = t.families + EXCLUDED.families;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_line_settled AFTER UPDATE OF status ON disbursement_lines
    FOR EACH ROW EXECUTE FUNCTION monitoring_on_line_settled();
