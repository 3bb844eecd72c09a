-- The bureau's adjustments of the units' assessment (考核): points added to or taken from a unit's
-- computed figure, each with its reason, who made it and when. Append-only: an adjustment is
-- never changed or removed, a wrong one is answered by another. Only the bureau's coordinators
-- and head adjust (checked here for any client, as the CLI checks before writing).
CREATE TABLE IF NOT EXISTS assessment_adjustments (
  campaign_id text NOT NULL,
  no          integer GENERATED ALWAYS AS IDENTITY,
  unit_id     text NOT NULL,
  points      numeric NOT NULL CHECK (points <> 0 AND points BETWEEN -1000 AND 1000),
  reason      text NOT NULL CHECK (length(btrim(reason)) > 0 AND length(reason) <= 2000),
  by_person   text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, no)
);
CREATE INDEX IF NOT EXISTS assessment_adjustments_by_unit
  ON assessment_adjustments (campaign_id, unit_id);
ALTER TABLE assessment_adjustments OWNER TO campaign_owner;

CREATE OR REPLACE FUNCTION assessment_adjustments_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'assessment adjustments are append-only: record a new adjustment instead'
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM campaign_require_person(NEW.campaign_id, NEW.by_person,
    ARRAY['bureau:coordinator', 'bureau:head'], 'adjust the assessment');
  IF NOT EXISTS (SELECT 1 FROM units WHERE campaign_id = NEW.campaign_id AND unit_id = NEW.unit_id) THEN
    RAISE EXCEPTION 'unknown unit "%" in campaign "%"', NEW.unit_id, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS assessment_adjustments_check ON assessment_adjustments;
CREATE TRIGGER assessment_adjustments_check BEFORE INSERT ON assessment_adjustments
  FOR EACH ROW EXECUTE FUNCTION assessment_adjustments_check();
-- Per statement, so that a change is refused even when it would touch no row.
DROP TRIGGER IF EXISTS assessment_adjustments_append_only ON assessment_adjustments;
CREATE TRIGGER assessment_adjustments_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
  ON assessment_adjustments FOR EACH STATEMENT EXECUTE FUNCTION assessment_adjustments_check();

-- The CLI writes as the owner; the reports and the portal read them beside the computed figures.
GRANT SELECT ON assessment_adjustments TO campaign_reports, campaign_portal;
