-- The PIN key a card's PIN verification value was made under (README, Key rotation):
-- values stored before key versions existed were all made under the one key of the time,
-- which KKS_PIN_KEY still names as version 1. Keep in step with the other backend.
ALTER TABLE cards ADD COLUMN pin_key_version INTEGER NOT NULL DEFAULT 1 CHECK (pin_key_version >= 1);
CREATE INDEX cards_status_pin_key_version ON cards (status, pin_key_version);
