-- The bureau steers a campaign: a phase closed early or extended, the campaign cancelled. Each
-- such decision is an event of the campaign with its person and reason; the windows in force
-- after it are kept on the campaign for the board and the schedule.
CREATE TABLE IF NOT EXISTS campaign_events (
  campaign_id  text NOT NULL REFERENCES campaigns(campaign_id) ON DELETE CASCADE,
  seq          integer NOT NULL,
  at           timestamptz NOT NULL,
  type         text NOT NULL CHECK (type IN ('phase-closed', 'phase-extended', 'cancelled')),
  actor        text NOT NULL,
  reason       text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (campaign_id, seq)
);

ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS windows jsonb;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS cancelled_at timestamptz;
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS cancel_reason text;
