-- The double-entry ledger: accounts with materialised balances, immutable journals and
-- postings, holds on available money, and idempotency records.
-- Keep in step with migrations/postgres: the two backends share one schema.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('family', 'agent', 'system')),
    owner_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('savings', 'wallet_pkh', 'wallet_bpnt', 'wallet_lpg',
                                       'treasury', 'programme_fund', 'agent_settlement')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    balance_minor BIGINT NOT NULL DEFAULT 0,
    held_minor BIGINT NOT NULL DEFAULT 0,
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    UNIQUE (owner_kind, owner_id, kind),
    -- The last line of defence: no account but the treasury below its holds.
    CHECK (held_minor >= 0),
    CHECK (kind = 'treasury' OR balance_minor >= held_minor)
);

CREATE TABLE journals (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('disbursement', 'cash_withdrawal', 'wallet_to_savings',
                                       'purchase', 'return_to_treasury', 'reversal', 'adjustment')),
    reference TEXT NOT NULL,
    memo TEXT NOT NULL DEFAULT '',
    -- A journal is reversed at most once.
    reverses_journal_id BIGINT UNIQUE REFERENCES journals (id),
    posted_at TIMESTAMP NOT NULL
);
CREATE INDEX journals_reference ON journals (reference);

CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    journal_id BIGINT NOT NULL REFERENCES journals (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    -- Positive credits the account, negative debits it.
    amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
    balance_after_minor BIGINT NOT NULL
);
CREATE INDEX postings_account ON postings (account_id, id);
CREATE INDEX postings_journal ON postings (journal_id);

CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason TEXT NOT NULL CHECK (reason IN ('stage_not_open', 'commitment_suspension',
                                           'lost_card', 'investigation')),
    reference TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at TIMESTAMP NOT NULL,
    release_at TIMESTAMP,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'released', 'captured')),
    ended_at TIMESTAMP,
    ended_by TEXT,
    capture_journal_id BIGINT REFERENCES journals (id),
    CHECK ((status = 'active') = (ended_at IS NULL)),
    CHECK ((status = 'captured') = (capture_journal_id IS NOT NULL))
);
CREATE INDEX holds_active_by_account ON holds (account_id) WHERE status = 'active';
CREATE INDEX holds_active_release_due ON holds (release_at)
    WHERE status = 'active' AND release_at IS NOT NULL;

CREATE TABLE idempotency_records (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);

-- Posted entries are never edited or deleted: corrections are new journals.
CREATE TRIGGER journals_are_immutable BEFORE UPDATE ON journals
BEGIN SELECT RAISE(ABORT, 'journals are append-only'); END;
CREATE TRIGGER journals_are_never_deleted BEFORE DELETE ON journals
BEGIN SELECT RAISE(ABORT, 'journals are append-only'); END;
CREATE TRIGGER postings_are_immutable BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_are_never_deleted BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
