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

-- An account owner's id as a number (families and agents), or NULL for any other owner
-- ("treasury", or a name a test gives).
CREATE FUNCTION monitoring_owner_number(owner_id TEXT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN owner_id ~ '^[0-9]{1,18}$' THEN CAST(owner_id AS BIGINT) END
$$;

-- Backfill from what the database holds already, before the triggers exist.
INSERT INTO monitoring_flows (region_code, pocket, journal_kind, business_day, shard, amount_minor, entries)
SELECT substr(f.village_code, 1, levels.width), a.kind, COALESCE(o.kind, j.kind), CAST(j.posted_at + INTERVAL '7 hours' AS DATE),
       f.id % 8, CAST(SUM(p.amount_minor) AS BIGINT), CAST(SUM(CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END) AS BIGINT)
FROM postings p
JOIN accounts a ON a.id = p.account_id AND a.owner_kind = 'family'
JOIN families f ON f.id = monitoring_owner_number(a.owner_id)
JOIN journals j ON j.id = p.journal_id
LEFT JOIN journals o ON o.id = j.reverses_journal_id
CROSS JOIN monitoring_region_widths levels
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO monitoring_flow_totals (region_code, pocket, journal_kind, shard, amount_minor, entries)
SELECT region_code, pocket, journal_kind, shard, CAST(SUM(amount_minor) AS BIGINT), CAST(SUM(entries) AS BIGINT)
FROM monitoring_flows GROUP BY region_code, pocket, journal_kind, shard;

INSERT INTO monitoring_family_flows (family_id, pocket, journal_kind, amount_minor, entries)
SELECT monitoring_owner_number(a.owner_id), a.kind, COALESCE(o.kind, j.kind),
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
SELECT CAST(j.posted_at + INTERVAL '7 hours' AS DATE), monitoring_owner_number(a.owner_id), COALESCE(o.kind, j.kind),
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
JOIN families f ON f.id = monitoring_owner_number(a.owner_id)
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

-- Postings are summed per statement (a transition table): a disbursement chunk that posts
-- thousands of journals in one statement updates each aggregate row once, not once per
-- posting (PostgreSQL keeps every version of a row updated within one transaction, so
-- repeated updates of one row in a transaction grow slower and slower).
CREATE FUNCTION monitoring_on_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT a.owner_kind, monitoring_owner_number(a.owner_id) AS owner_id, a.kind AS pocket,
               COALESCE(o.kind, j.kind) AS journal_kind, CAST(j.posted_at + INTERVAL '7 hours' AS DATE) AS business_day,
               p.amount_minor, CASE WHEN j.kind = 'reversal' THEN -1 ELSE 1 END AS entry
        FROM inserted_postings p
        JOIN accounts a ON a.id = p.account_id AND a.owner_kind IN ('family', 'agent')
        JOIN journals j ON j.id = p.journal_id
        LEFT JOIN journals o ON o.id = j.reverses_journal_id
    ),
    family_moves AS (
        SELECT m.*, f.village_code FROM moved m JOIN families f ON m.owner_kind = 'family' AND f.id = m.owner_id
    ),
    daily AS (
        INSERT INTO monitoring_flows AS t (region_code, pocket, journal_kind, business_day, shard, amount_minor, entries)
        SELECT substr(m.village_code, 1, levels.width), m.pocket, m.journal_kind, m.business_day, m.owner_id % 8,
               CAST(SUM(m.amount_minor) AS BIGINT), CAST(SUM(m.entry) AS BIGINT)
        FROM family_moves m CROSS JOIN monitoring_region_widths levels
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (region_code, pocket, journal_kind, business_day, shard) DO UPDATE
            SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries
        RETURNING 1
    ),
    totals AS (
        INSERT INTO monitoring_flow_totals AS t (region_code, pocket, journal_kind, shard, amount_minor, entries)
        SELECT substr(m.village_code, 1, levels.width), m.pocket, m.journal_kind, m.owner_id % 8,
               CAST(SUM(m.amount_minor) AS BIGINT), CAST(SUM(m.entry) AS BIGINT)
        FROM family_moves m CROSS JOIN monitoring_region_widths levels
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE
            SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries
        RETURNING 1
    ),
    agent_days AS (
        INSERT INTO monitoring_agent_days AS t (business_day, agent_id, journal_kind, amount_minor, entries)
        SELECT m.business_day, m.owner_id, m.journal_kind, CAST(SUM(m.amount_minor) AS BIGINT), CAST(SUM(m.entry) AS BIGINT)
        FROM moved m WHERE m.owner_kind = 'agent'
        GROUP BY 1, 2, 3
        ON CONFLICT (business_day, agent_id, journal_kind) DO UPDATE
            SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries
        RETURNING 1
    ),
    per_family AS (
        SELECT m.owner_id AS family_id, m.village_code, m.pocket, m.journal_kind,
               CAST(SUM(m.amount_minor) AS BIGINT) AS amount_minor, CAST(SUM(m.entry) AS BIGINT) AS entries
        FROM family_moves m GROUP BY 1, 2, 3, 4
    ),
    family_flows AS (
        INSERT INTO monitoring_family_flows AS t (family_id, pocket, journal_kind, amount_minor, entries)
        SELECT family_id, pocket, journal_kind, amount_minor, entries FROM per_family
        ON CONFLICT (family_id, pocket, journal_kind) DO UPDATE
            SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries
        RETURNING t.family_id, t.pocket, t.journal_kind, t.amount_minor AS after_minor
    ),
    -- A family starts or stops counting for a flow when its net amount leaves or returns to zero.
    reach AS (
        SELECT pf.village_code, pf.family_id, pf.pocket, pf.journal_kind,
               (CASE WHEN ff.after_minor <> 0 THEN 1 ELSE 0 END)
               - (CASE WHEN ff.after_minor - pf.amount_minor <> 0 THEN 1 ELSE 0 END) AS change
        FROM family_flows ff JOIN per_family pf USING (family_id, pocket, journal_kind)
    )
    INSERT INTO monitoring_reach AS t (region_code, pocket, journal_kind, shard, families)
    SELECT substr(r.village_code, 1, levels.width), r.pocket, r.journal_kind, r.family_id % 8, CAST(SUM(r.change) AS BIGINT)
    FROM reach r CROSS JOIN monitoring_region_widths levels
    WHERE r.change <> 0
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE SET families = t.families + EXCLUDED.families;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_postings AFTER INSERT ON postings
    REFERENCING NEW TABLE AS inserted_postings
    FOR EACH STATEMENT EXECUTE FUNCTION monitoring_on_postings();

-- Adds (sign 1) or takes away (sign -1) one hold of a family's pocket.
CREATE FUNCTION monitoring_count_hold(p_account_id BIGINT, p_reason TEXT, p_amount_minor BIGINT, p_sign BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO monitoring_holds AS t (region_code, pocket, reason, amount_minor, holds)
    SELECT r.code, a.kind, p_reason, p_sign * p_amount_minor, p_sign
    FROM accounts a
    JOIN families f ON a.owner_kind = 'family' AND f.id = monitoring_owner_number(a.owner_id)
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

-- Families per status, per statement (a bulk registration counts in one update per row):
-- registered families count once; a change of status or village moves a family.
CREATE FUNCTION monitoring_on_families() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO monitoring_family_statuses AS t (region_code, status, families)
        SELECT substr(n.village_code, 1, levels.width), n.status, COUNT(*)
        FROM new_families n CROSS JOIN monitoring_region_widths levels
        GROUP BY 1, 2
        ON CONFLICT (region_code, status) DO UPDATE SET families = t.families + EXCLUDED.families;
    ELSE
        WITH moved AS (
            SELECT o.village_code, o.status, -1 AS sign FROM old_families o JOIN new_families n ON n.id = o.id
            WHERE o.status <> n.status OR o.village_code <> n.village_code
            UNION ALL
            SELECT n.village_code, n.status, 1 FROM old_families o JOIN new_families n ON n.id = o.id
            WHERE o.status <> n.status OR o.village_code <> n.village_code
        )
        INSERT INTO monitoring_family_statuses AS t (region_code, status, families)
        SELECT substr(m.village_code, 1, levels.width), m.status, SUM(m.sign)
        FROM moved m CROSS JOIN monitoring_region_widths levels
        GROUP BY 1, 2
        ON CONFLICT (region_code, status) DO UPDATE SET families = t.families + EXCLUDED.families;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_families_registered AFTER INSERT ON families
    REFERENCING NEW TABLE AS new_families
    FOR EACH STATEMENT EXECUTE FUNCTION monitoring_on_families();
CREATE TRIGGER monitoring_on_families_changed AFTER UPDATE ON families
    REFERENCING OLD TABLE AS old_families NEW TABLE AS new_families
    FOR EACH STATEMENT EXECUTE FUNCTION monitoring_on_families();

-- Adds (sign 1) or takes away (sign -1) one family's verification result for a cycle.
CREATE FUNCTION monitoring_count_verification(p_family_id BIGINT, p_cycle TEXT, p_result TEXT, p_sign BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO monitoring_verifications AS t (region_code, cycle, result, shard, families)
    SELECT r.code, p_cycle, p_result, p_family_id % 64, p_sign
    FROM families f CROSS JOIN LATERAL monitoring_regions_of(f.village_code) AS r (code)
    WHERE f.id = p_family_id
    ON CONFLICT (region_code, cycle, result, shard) DO UPDATE SET families = t.families + EXCLUDED.families
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

-- Settled lines per statement, like the postings: a chunk's lines count in one update per row.
CREATE FUNCTION monitoring_on_lines_settled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO monitoring_stage_payments AS t
        (region_code, programme, year, period, category, status, settled_day, line_amount_minor, families)
    SELECT substr(f.village_code, 1, levels.width), n.programme, n.year, n.period, f.category, n.status,
           CAST(COALESCE(n.paid_at, LOCALTIMESTAMP) + INTERVAL '7 hours' AS DATE), n.amount_minor, COUNT(*)
    FROM new_lines n
    JOIN old_lines o ON o.id = n.id AND o.status = 'pending'
    JOIN families f ON f.id = n.family_id
    CROSS JOIN monitoring_region_widths levels
    WHERE n.status IN ('paid', 'failed')
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (region_code, programme, year, period, category, status, settled_day, line_amount_minor) DO UPDATE
        SET families = t.families + EXCLUDED.families;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_lines_settled AFTER UPDATE ON disbursement_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION monitoring_on_lines_settled();
