-- The EDC record keeps its receipt as typed columns, not a JSON copy of the slip (issue 22:
-- the receipt was 1.3 KB a transaction, kept for good). What the slip printed and a
-- retry answers is drawn again from the row: its columns, the pockets' figures after the
-- transaction below, and for a purchase its basket. The idempotency answer of an approved
-- card transaction is its reference (the receipt is drawn from this row again).
-- Keep in step with the other backend's folder.

-- A purchase's basket (what a reversal gives back to the quotas, and the slip's goods):
-- {"usage": [{sku, quantity, quota}], "items": [{sku, name, quantity, unit_price, total}]}.
ALTER TABLE edc_transactions ADD COLUMN basket TEXT;
-- Each family pocket as the slip printed it: balance, held by holds in force, and whether
-- its block kept the rest (NULL: the family has no such pocket, or no slip: a reversal).
ALTER TABLE edc_transactions ADD COLUMN savings_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN savings_held_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN savings_blocked BOOLEAN;
ALTER TABLE edc_transactions ADD COLUMN pkh_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN pkh_held_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN pkh_blocked BOOLEAN;
ALTER TABLE edc_transactions ADD COLUMN bpnt_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN bpnt_held_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN bpnt_blocked BOOLEAN;
ALTER TABLE edc_transactions ADD COLUMN lpg_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN lpg_held_minor BIGINT;
ALTER TABLE edc_transactions ADD COLUMN lpg_blocked BOOLEAN;

UPDATE edc_transactions
SET basket = jsonb_build_object('usage', details::jsonb -> 'basket', 'items', details::jsonb -> 'receipt' -> 'items')::text
WHERE kind = 'purchase' AND details::jsonb ? 'receipt';

UPDATE edc_transactions e
SET savings_minor = ROUND((b ->> 'balance')::numeric * 100)::bigint,
    savings_held_minor = ROUND((b ->> 'held')::numeric * 100)::bigint,
    savings_blocked = COALESCE((b ->> 'blocked')::numeric, 0) > 0
FROM edc_transactions source, jsonb_array_elements(source.details::jsonb -> 'receipt' -> 'balances') b
WHERE source.id = e.id AND source.details::jsonb -> 'receipt' ? 'balances' AND b ->> 'kind' = 'savings';

UPDATE edc_transactions e
SET pkh_minor = ROUND((b ->> 'balance')::numeric * 100)::bigint,
    pkh_held_minor = ROUND((b ->> 'held')::numeric * 100)::bigint,
    pkh_blocked = COALESCE((b ->> 'blocked')::numeric, 0) > 0
FROM edc_transactions source, jsonb_array_elements(source.details::jsonb -> 'receipt' -> 'balances') b
WHERE source.id = e.id AND source.details::jsonb -> 'receipt' ? 'balances' AND b ->> 'kind' = 'wallet_pkh';

UPDATE edc_transactions e
SET bpnt_minor = ROUND((b ->> 'balance')::numeric * 100)::bigint,
    bpnt_held_minor = ROUND((b ->> 'held')::numeric * 100)::bigint,
    bpnt_blocked = COALESCE((b ->> 'blocked')::numeric, 0) > 0
FROM edc_transactions source, jsonb_array_elements(source.details::jsonb -> 'receipt' -> 'balances') b
WHERE source.id = e.id AND source.details::jsonb -> 'receipt' ? 'balances' AND b ->> 'kind' = 'wallet_bpnt';

UPDATE edc_transactions e
SET lpg_minor = ROUND((b ->> 'balance')::numeric * 100)::bigint,
    lpg_held_minor = ROUND((b ->> 'held')::numeric * 100)::bigint,
    lpg_blocked = COALESCE((b ->> 'blocked')::numeric, 0) > 0
FROM edc_transactions source, jsonb_array_elements(source.details::jsonb -> 'receipt' -> 'balances') b
WHERE source.id = e.id AND source.details::jsonb -> 'receipt' ? 'balances' AND b ->> 'kind' = 'wallet_lpg';

ALTER TABLE edc_transactions DROP COLUMN details;
