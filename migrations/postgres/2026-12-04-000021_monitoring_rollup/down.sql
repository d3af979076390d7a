-- The postings trigger of 000009, as it was. The figures miss the journals the roll-up
-- had not reached.
DROP TABLE monitoring_rolled_journals;
DROP TABLE monitoring_rollup;
CREATE TABLE monitoring_summed_journals (journal_id BIGINT PRIMARY KEY);

CREATE FUNCTION monitoring_writer_shard() RETURNS INTEGER LANGUAGE sql STABLE AS $$
    SELECT COALESCE(CAST(NULLIF(current_setting('kks.writer_shard', true), '') AS INTEGER), pg_backend_pid() % 64)
$$;

CREATE OR REPLACE FUNCTION monitoring_on_postings() RETURNS trigger LANGUAGE plpgsql
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    -- The statement's change to each family flow, kept for the reach below.
    flow_families BIGINT[];
    flow_pockets TEXT[];
    flow_kinds TEXT[];
    flow_changes_minor BIGINT[];
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
        SELECT substr(m.village_code, 1, levels.width), m.pocket, m.journal_kind, m.business_day, monitoring_writer_shard(),
               CAST(SUM(m.amount_minor) AS BIGINT), CAST(SUM(m.entry) AS BIGINT)
        FROM family_moves m CROSS JOIN monitoring_region_widths levels
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (region_code, pocket, journal_kind, business_day, shard) DO UPDATE
            SET amount_minor = t.amount_minor + EXCLUDED.amount_minor, entries = t.entries + EXCLUDED.entries
        RETURNING 1
    ),
    totals AS (
        INSERT INTO monitoring_flow_totals AS t (region_code, pocket, journal_kind, shard, amount_minor, entries)
        SELECT substr(m.village_code, 1, levels.width), m.pocket, m.journal_kind, monitoring_writer_shard(),
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
    )
    SELECT array_agg(family_id), array_agg(pocket), array_agg(journal_kind), array_agg(amount_minor)
    INTO flow_families, flow_pockets, flow_kinds, flow_changes_minor
    FROM per_family;

    -- A family starts or stops counting for a flow when its net amount leaves or returns to
    -- zero. The flows are read back by their key after the upserts above, whose rows this
    -- transaction holds locked, so each is exactly the amount after this statement.
    INSERT INTO monitoring_reach AS t (region_code, pocket, journal_kind, shard, families)
    SELECT substr(r.village_code, 1, levels.width), r.pocket, r.journal_kind, monitoring_writer_shard(), CAST(SUM(r.change) AS BIGINT)
    FROM (
        SELECT f.village_code, c.family_id, c.pocket, c.journal_kind,
               (CASE WHEN ff.amount_minor <> 0 THEN 1 ELSE 0 END)
               - (CASE WHEN ff.amount_minor - c.change_minor <> 0 THEN 1 ELSE 0 END) AS change
        FROM unnest(flow_families, flow_pockets, flow_kinds, flow_changes_minor)
             AS c (family_id, pocket, journal_kind, change_minor)
        JOIN monitoring_family_flows ff
          ON ff.family_id = c.family_id AND ff.pocket = c.pocket AND ff.journal_kind = c.journal_kind
        JOIN families f ON f.id = c.family_id
    ) r CROSS JOIN monitoring_region_widths levels
    WHERE r.change <> 0
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (region_code, pocket, journal_kind, shard) DO UPDATE SET families = t.families + EXCLUDED.families;
    RETURN NULL;
END;
$$;
CREATE TRIGGER monitoring_on_postings AFTER INSERT ON postings
    REFERENCING NEW TABLE AS inserted_postings
    FOR EACH STATEMENT EXECUTE FUNCTION monitoring_on_postings();
