-- A suspension is a state of the account, not an amount: while a debit block stands, no
-- debit leaves the account whatever its holds and whenever its money arrived (the
-- posting primitive's conditional update checks it), but for money returned to the
-- treasury on termination. Keep in step with migrations/postgres.
ALTER TABLE accounts ADD COLUMN blocked_reason TEXT CHECK (blocked_reason IN ('commitment_suspension'));
-- What the block is about (the cycle, the member, the commitment), who placed it, when.
ALTER TABLE accounts ADD COLUMN blocked_reference TEXT;
ALTER TABLE accounts ADD COLUMN blocked_by TEXT;
ALTER TABLE accounts ADD COLUMN blocked_at TIMESTAMP;
CREATE INDEX accounts_blocked ON accounts (id) WHERE blocked_reason IS NOT NULL;

-- Suspensions placed before: the suspended families' PKH wallets are blocked, with the
-- latest suspension hold's reference, and those holds end (their money stays blocked).
UPDATE accounts SET
    blocked_reason = 'commitment_suspension',
    blocked_reference = COALESCE((SELECT h.reference FROM holds h WHERE h.account_id = accounts.id
        AND h.reason = 'commitment_suspension' ORDER BY h.id DESC LIMIT 1), 'suspended before migration 000010'),
    blocked_by = 'rule:conditionality',
    blocked_at = COALESCE((SELECT MIN(h.placed_at) FROM holds h WHERE h.account_id = accounts.id
        AND h.reason = 'commitment_suspension' AND h.status = 'active'), CURRENT_TIMESTAMP)
WHERE kind = 'wallet_pkh' AND owner_kind = 'family' AND status = 'open'
  AND owner_id IN (SELECT CAST(id AS TEXT) FROM families WHERE status = 'suspended');
UPDATE accounts SET held_minor = held_minor - (SELECT SUM(h.amount_minor) FROM holds h
        WHERE h.account_id = accounts.id AND h.status = 'active' AND h.reason = 'commitment_suspension')
WHERE id IN (SELECT account_id FROM holds WHERE status = 'active' AND reason = 'commitment_suspension');
UPDATE holds SET status = 'released', ended_at = CURRENT_TIMESTAMP,
    ended_by = 'migration 000010: a suspension is a debit block on the wallet'
WHERE status = 'active' AND reason = 'commitment_suspension';
