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
SET basket = json_object('usage', json(json_extract(details, '$.basket')),
                         'items', json(json_extract(details, '$.receipt.items')))
WHERE kind = 'purchase' AND json_extract(details, '$.receipt') IS NOT NULL;

UPDATE edc_transactions
SET savings_minor = pocket.balance_minor, savings_held_minor = pocket.held_minor, savings_blocked = pocket.blocked
FROM (SELECT e.id,
             CAST(ROUND(CAST(json_extract(b.value, '$.balance') AS REAL) * 100) AS INTEGER) AS balance_minor,
             CAST(ROUND(CAST(json_extract(b.value, '$.held') AS REAL) * 100) AS INTEGER) AS held_minor,
             CAST(COALESCE(json_extract(b.value, '$.blocked'), '0') AS REAL) > 0 AS blocked
      FROM edc_transactions e, json_each(e.details, '$.receipt.balances') b
      WHERE json_extract(b.value, '$.kind') = 'savings') AS pocket
WHERE pocket.id = edc_transactions.id;

UPDATE edc_transactions
SET pkh_minor = pocket.balance_minor, pkh_held_minor = pocket.held_minor, pkh_blocked = pocket.blocked
FROM (SELECT e.id,
             CAST(ROUND(CAST(json_extract(b.value, '$.balance') AS REAL) * 100) AS INTEGER) AS balance_minor,
             CAST(ROUND(CAST(json_extract(b.value, '$.held') AS REAL) * 100) AS INTEGER) AS held_minor,
             CAST(COALESCE(json_extract(b.value, '$.blocked'), '0') AS REAL) > 0 AS blocked
      FROM edc_transactions e, json_each(e.details, '$.receipt.balances') b
      WHERE json_extract(b.value, '$.kind') = 'wallet_pkh') AS pocket
WHERE pocket.id = edc_transactions.id;

UPDATE edc_transactions
SET bpnt_minor = pocket.balance_minor, bpnt_held_minor = pocket.held_minor, bpnt_blocked = pocket.blocked
FROM (SELECT e.id,
             CAST(ROUND(CAST(json_extract(b.value, '$.balance') AS REAL) * 100) AS INTEGER) AS balance_minor,
             CAST(ROUND(CAST(json_extract(b.value, '$.held') AS REAL) * 100) AS INTEGER) AS held_minor,
             CAST(COALESCE(json_extract(b.value, '$.blocked'), '0') AS REAL) > 0 AS blocked
      FROM edc_transactions e, json_each(e.details, '$.receipt.balances') b
      WHERE json_extract(b.value, '$.kind') = 'wallet_bpnt') AS pocket
WHERE pocket.id = edc_transactions.id;

UPDATE edc_transactions
SET lpg_minor = pocket.balance_minor, lpg_held_minor = pocket.held_minor, lpg_blocked = pocket.blocked
FROM (SELECT e.id,
             CAST(ROUND(CAST(json_extract(b.value, '$.balance') AS REAL) * 100) AS INTEGER) AS balance_minor,
             CAST(ROUND(CAST(json_extract(b.value, '$.held') AS REAL) * 100) AS INTEGER) AS held_minor,
             CAST(COALESCE(json_extract(b.value, '$.blocked'), '0') AS REAL) > 0 AS blocked
      FROM edc_transactions e, json_each(e.details, '$.receipt.balances') b
      WHERE json_extract(b.value, '$.kind') = 'wallet_lpg') AS pocket
WHERE pocket.id = edc_transactions.id;

ALTER TABLE edc_transactions DROP COLUMN details;
