-- Reverting gives the rows their details column back with each purchase's basket usage,
-- not the receipts: the slips of the transactions made meanwhile are drawn from the
-- columns dropped here, so the older code cannot reprint them (it says the details are
-- unreadable; it does not guess).
ALTER TABLE edc_transactions ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
UPDATE edc_transactions SET details = json_object('basket', json(json_extract(basket, '$.usage')))
WHERE basket IS NOT NULL;
ALTER TABLE edc_transactions DROP COLUMN basket;
ALTER TABLE edc_transactions DROP COLUMN savings_minor;
ALTER TABLE edc_transactions DROP COLUMN savings_held_minor;
ALTER TABLE edc_transactions DROP COLUMN savings_blocked;
ALTER TABLE edc_transactions DROP COLUMN pkh_minor;
ALTER TABLE edc_transactions DROP COLUMN pkh_held_minor;
ALTER TABLE edc_transactions DROP COLUMN pkh_blocked;
ALTER TABLE edc_transactions DROP COLUMN bpnt_minor;
ALTER TABLE edc_transactions DROP COLUMN bpnt_held_minor;
ALTER TABLE edc_transactions DROP COLUMN bpnt_blocked;
ALTER TABLE edc_transactions DROP COLUMN lpg_minor;
ALTER TABLE edc_transactions DROP COLUMN lpg_held_minor;
ALTER TABLE edc_transactions DROP COLUMN lpg_blocked;
