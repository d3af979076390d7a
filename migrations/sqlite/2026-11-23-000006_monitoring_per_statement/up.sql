-- A disbursement chunk credits hundreds of wallets in one journal. Summed row by row by the
-- triggers below, each credit ran nine upserts (daily and all-days flows at four region
-- levels, and the family's own): with the lines' trigger, about half of the server's time
-- in a stage. SQLite has no statement triggers, so the posting code sums such a journal's
-- postings itself, one statement per aggregate (as PostgreSQL's statement triggers do),
-- and lists the journal here while it does, so that the row triggers pass it by.
-- Keep in step with the other backend's folder: the two share one schema.
CREATE TABLE monitoring_summed_journals (journal_id INTEGER PRIMARY KEY);

DROP TRIGGER monitoring_family_posting;
DROP TRIGGER monitoring_agent_posting;

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
