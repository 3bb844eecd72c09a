-- A supervised task raised by the bureau outside the plan (督办事项) is an event of the campaign,
-- decided by the campaign workflow from its recorded roster.
ALTER TABLE campaign_events DROP CONSTRAINT IF EXISTS campaign_events_type_check;
ALTER TABLE campaign_events ADD CONSTRAINT campaign_events_type_check
  CHECK (type IN ('phase-closed', 'phase-extended', 'cancelled', 'task-raised'));
