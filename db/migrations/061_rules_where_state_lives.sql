-- The rules the CLI checks before writing the enterprise list and the verification sample hold in
-- the database too, for any client: the campaign is recorded and still running, and the person
-- who imports or draws is of the bureau (coordinator or head) or, for a sample, the evaluator.
CREATE OR REPLACE FUNCTION campaign_require_running(p_campaign text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE s text; reason text;
BEGIN
  SELECT status, cancel_reason INTO s, reason FROM campaigns WHERE campaign_id = p_campaign;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'campaign % is not recorded', p_campaign USING ERRCODE = 'check_violation';
  ELSIF s = 'cancelled' THEN
    RAISE EXCEPTION 'campaign % was cancelled: %', p_campaign, coalesce(reason, '')
      USING ERRCODE = 'check_violation';
  ELSIF s = 'completed' THEN
    RAISE EXCEPTION 'campaign % has closed', p_campaign USING ERRCODE = 'check_violation';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION campaign_require_person(
  p_campaign text, p_person text, p_allowed text[], p_what text
) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE k text; r text;
BEGIN
  SELECT u.kind, p.role INTO k, r
    FROM people p JOIN units u ON u.campaign_id = p.campaign_id AND u.unit_id = p.unit_id
   WHERE p.campaign_id = p_campaign AND p.person_id = p_person;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown person "%": not on the roster of campaign "%"', p_person, p_campaign
      USING ERRCODE = 'check_violation';
  END IF;
  IF NOT (k || ':' || r) = ANY (p_allowed) THEN
    RAISE EXCEPTION '% (% in a unit of kind %) may not %', p_person, r, k, p_what
      USING ERRCODE = 'check_violation';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION enterprises_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM campaign_require_running(OLD.campaign_id);
    RETURN OLD;
  END IF;
  PERFORM campaign_require_running(NEW.campaign_id);
  PERFORM campaign_require_person(NEW.campaign_id, NEW.imported_by,
    ARRAY['bureau:coordinator', 'bureau:head'], 'import the enterprise list');
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS enterprises_check ON enterprises;
CREATE TRIGGER enterprises_check BEFORE INSERT OR UPDATE OR DELETE ON enterprises
  FOR EACH ROW EXECUTE FUNCTION enterprises_check();

CREATE OR REPLACE FUNCTION samples_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM campaign_require_running(NEW.campaign_id);
  PERFORM campaign_require_person(NEW.campaign_id, NEW.drawn_by,
    ARRAY['bureau:coordinator', 'bureau:head', 'evaluator:evaluator', 'evaluator:head'],
    'draw the verification sample');
  IF NEW.size <> coalesce(array_length(NEW.enterprises, 1), 0) OR NEW.size > NEW.population THEN
    RAISE EXCEPTION 'a sample of % enterprises does not match its size % of %',
      coalesce(array_length(NEW.enterprises, 1), 0), NEW.size, NEW.population
      USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(NEW.enterprises) AS e(code)
              WHERE NOT EXISTS (SELECT 1 FROM enterprises x
                                 WHERE x.campaign_id = NEW.campaign_id AND x.credit_code = e.code)) THEN
    RAISE EXCEPTION 'a sample names enterprises that are not on the list of campaign %',
      NEW.campaign_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS samples_check ON samples;
CREATE TRIGGER samples_check BEFORE INSERT OR UPDATE ON samples
  FOR EACH ROW EXECUTE FUNCTION samples_check();
