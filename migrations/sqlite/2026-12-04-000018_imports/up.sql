-- Bulk imports (regions, families from CSV files) and bulk card issuance, each a job
-- followed through GET /v1/imports/{id}. A file is known by its SHA-256: the same file
-- from the same person is the same job. Counts are updated in each chunk's own
-- transaction, with the rows it wrote, so progress never runs ahead of the data.
-- Keep in step with migrations/postgres.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('regions', 'families', 'card_issuance')),
    actor TEXT NOT NULL,
    -- The importer's region scope when it started (NULL: national).
    scope_code TEXT,
    -- The file's SHA-256 (hex); NULL for a card issuance, which has no file.
    digest TEXT,
    -- A card issuance: the region and the paying bank.
    region_code TEXT,
    bank TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    lines_total BIGINT NOT NULL,
    lines_done BIGINT NOT NULL DEFAULT 0,
    accepted BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    already_present BIGINT NOT NULL DEFAULT 0,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    -- A card issuance: when its PIN mailer was downloaded (and its PINs erased).
    pins_delivered_at TIMESTAMP
);
CREATE UNIQUE INDEX imports_file ON imports (kind, actor, digest);

-- The lines a job refused: line number, stable code, and a reason that never repeats
-- the line's personal data.
CREATE TABLE import_rejections (
    import_id BIGINT NOT NULL REFERENCES imports (id),
    line BIGINT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX import_rejections_by_line ON import_rejections (import_id, line);

-- A card issuance's one-time PINs, until its mailer is downloaded once: then deleted.
-- Each PIN is sealed with a pad derived from the PIN key (outside the database), so a
-- copy of the database alone does not show them.
CREATE TABLE import_pins (
    import_id BIGINT NOT NULL REFERENCES imports (id),
    card_number TEXT NOT NULL,
    family_id BIGINT NOT NULL,
    pin_sealed TEXT NOT NULL,
    -- The PIN key that sealed it (a rotation before the download leaves it readable).
    pin_key_version INTEGER NOT NULL,
    PRIMARY KEY (import_id, card_number)
);

-- The family card number (Nomor Kartu Keluarga) of the national data set, where an
-- import brought it.
ALTER TABLE families ADD COLUMN family_card_number TEXT;
