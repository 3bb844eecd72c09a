-- The outbox claims deliveries with a lease instead of holding row locks across HTTP calls: a
-- dispatcher marks a batch as its own until `lease_until` in a short transaction, sends outside
-- it and records each outcome only while the claim is still its own. A dispatcher that dies
-- while sending leaves its rows leased; once the lease has run out another one claims and sends
-- them (the receiver de-duplicates by the delivery's Idempotency-Key).
ALTER TABLE notice_deliveries ADD COLUMN IF NOT EXISTS claimed_by text;
ALTER TABLE notice_deliveries ADD COLUMN IF NOT EXISTS lease_until timestamptz;
