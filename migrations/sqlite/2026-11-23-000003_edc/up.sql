-- Agent EDC transactions, usage counters for limits and quotas, and the goods catalogue.
-- Keep in step with the other backend's folder: the two share one schema.

-- One row per STAN a terminal used on a business day. The unique key is where an
-- original and its reversal meet: a reversal that arrives first leaves a placeholder
-- (status 'reversed_before_arrival') so that the late original fails.
CREATE TABLE edc_transactions (
    id INTEGER PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals (id),
    stan TEXT NOT NULL,
    business_date DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('balance_inquiry', 'cash_withdrawal', 'wallet_to_savings', 'purchase',
                                       'reversal')),
    status TEXT NOT NULL CHECK (status IN ('approved', 'reversed', 'reversed_before_arrival')),
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    card_number TEXT REFERENCES cards (card_number),
    family_id BIGINT REFERENCES families (id),
    -- The pocket debited (cash withdrawal: savings; purchase: a programme e-wallet).
    pocket TEXT,
    amount_minor BIGINT NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
    journal_id BIGINT REFERENCES journals (id),
    -- 12-digit retrieval reference number and 6-character approval code, as on an EDC slip.
    reference TEXT NOT NULL UNIQUE,
    approval_code TEXT NOT NULL,
    -- For a reversal: the STAN it reversed. For a purchase: the basket (JSON).
    original_stan TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    UNIQUE (terminal_id, stan, business_date)
);
CREATE INDEX edc_transactions_agent_day ON edc_transactions (agent_id, business_date);
CREATE INDEX edc_transactions_family ON edc_transactions (family_id, id);

-- Running totals that a limit or quota is checked against, one row per scope and
-- period, raised only by a conditional upsert so concurrent requests cannot overshoot.
CREATE TABLE usage_counters (
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    used BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (scope, period)
);

-- Goods an e-Warong sells from a programme e-wallet.
CREATE TABLE catalogue_items (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    programme TEXT NOT NULL CHECK (programme IN ('bpnt', 'lpg')),
    unit TEXT NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor > 0),
    -- How many units a family may buy per calendar month; NULL: no quota.
    monthly_quota INTEGER CHECK (monthly_quota > 0),
    active BOOLEAN NOT NULL DEFAULT TRUE
);

-- Illustrative prices. LPG: the programme's Rp 4,500/kg on a 3 kg cylinder is Rp 13,500,
-- three a month (Rp 40,500).
INSERT INTO catalogue_items (sku, name, programme, unit, price_minor, monthly_quota) VALUES
    ('BERAS-1KG', 'Beras medium', 'bpnt', 'kg', 1100000, 20),
    ('TELUR-1KG', 'Telur ayam', 'bpnt', 'kg', 2600000, 5),
    ('KACANG-1KG', 'Kacang hijau', 'bpnt', 'kg', 2400000, 2),
    ('LPG-3KG', 'Isi ulang LPG 3 kg', 'lpg', 'tabung', 1350000, 3);
