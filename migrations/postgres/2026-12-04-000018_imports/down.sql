ALTER TABLE families DROP COLUMN family_card_number;
DROP TABLE import_pins;
DROP TABLE import_rejections;
DROP TABLE imports;
