DROP TABLE catalogue_items;
DROP TABLE usage_counters;
DROP TABLE edc_transactions;
