-- The posting triggers of 000005 and 000006, as they were. The figures miss the journals
-- the roll-up had not reached.
DROP TABLE monitoring_rolled_journals;
DROP TABLE monitoring_rollup;

CREATE TABLE monitoring_summed_journals (journal_id INTEGER PRIMARY KEY);


CREATE TRIGGER monitoring_family_posting AFTER INSERT ON postings
WHEN (SELECT owner_kind FROM accounts WHERE id = NEW.account_id) = 'family'
  AND NOT EXISTS (SELECT 1 FROM monitoring_summed_journals s WHERE s.journal_id = NEW.journal_id)
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
  AND NOT EXISTS (SELECT 1 FROM monitoring_summed_journals s WHERE s.journal_id = NEW.journal_id)
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

