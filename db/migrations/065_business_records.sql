-- Department business records (办件台账) and the official sample.
--
-- A unit uploads its record list for an indicator (record_lists, business_records): each upload
-- is kept as it came (append-only); the newest list of a unit for an indicator is the one drawn
-- from. The evaluator draws a seeded sample of records (record_samples, record_sample_items) and
-- of enterprises (samples). A campaign's first draw of a kind is the official one; a later draw
-- needs the bureau (coordinator or head) and its reason, becomes the official one, and the
-- earlier draw stays, marked superseded. Each sampled record carries the evidence request sent
-- for it (its task) and the evaluator's outcome.

-- ---- the enterprise sample: numbered draws, one official ----
ALTER TABLE samples ADD COLUMN IF NOT EXISTS draw_no integer;
ALTER TABLE samples ADD COLUMN IF NOT EXISTS official boolean NOT NULL DEFAULT false;
ALTER TABLE samples ADD COLUMN IF NOT EXISTS reason text
  CHECK (reason IS NULL OR (length(btrim(reason)) > 0 AND length(reason) <= 2000));
ALTER TABLE samples ADD COLUMN IF NOT EXISTS superseded_by integer;
-- Draws made before: numbered in the order they were drawn; the latest (the one the portal
-- showed) is the official one, each earlier one superseded by the next. The rules on the table
-- (migration 061: no change to a closed campaign's sample) hold for people, not for this
-- numbering, which also reaches the draws of campaigns that have closed.
ALTER TABLE samples DISABLE TRIGGER USER;
UPDATE samples s SET draw_no = n.no, official = (n.no = n.last),
       superseded_by = CASE WHEN n.no = n.last THEN NULL ELSE n.no + 1 END
  FROM (SELECT campaign_id, seed, population,
               row_number() OVER (PARTITION BY campaign_id ORDER BY drawn_at, seed) AS no,
               count(*) OVER (PARTITION BY campaign_id) AS last
          FROM samples) n
 WHERE s.campaign_id = n.campaign_id AND s.seed = n.seed AND s.population = n.population
   AND s.draw_no IS NULL;
ALTER TABLE samples ENABLE TRIGGER USER;
ALTER TABLE samples ALTER COLUMN draw_no SET NOT NULL;
ALTER TABLE samples DROP CONSTRAINT IF EXISTS samples_pkey;
ALTER TABLE samples ADD CONSTRAINT samples_pkey PRIMARY KEY (campaign_id, draw_no);
CREATE UNIQUE INDEX IF NOT EXISTS samples_one_official ON samples (campaign_id) WHERE official;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'samples_campaign_fk') THEN
    ALTER TABLE samples ADD CONSTRAINT samples_campaign_fk
      FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id) ON DELETE CASCADE NOT VALID;
  END IF;
  BEGIN
    ALTER TABLE samples VALIDATE CONSTRAINT samples_campaign_fk;
  EXCEPTION WHEN foreign_key_violation THEN
    RAISE NOTICE 'samples.samples_campaign_fk left NOT VALID: %', SQLERRM;
  END;
END $$;

-- The rules of a draw, for a table of draws numbered per scope: the first draw of the scope is
-- drawn by the evaluator or the bureau; a later one only by the bureau, with a reason. The new
-- draw is the official one and the draw it replaces is marked superseded (the only change a
-- draw ever sees).
CREATE OR REPLACE FUNCTION campaign_check_redraw(
  p_campaign text, p_person text, p_has_earlier boolean, p_reason text, p_what text
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT p_has_earlier THEN
    PERFORM campaign_require_person(p_campaign, p_person,
      ARRAY['bureau:coordinator', 'bureau:head', 'evaluator:evaluator', 'evaluator:head'],
      'draw ' || p_what);
    RETURN;
  END IF;
  PERFORM campaign_require_person(p_campaign, p_person,
    ARRAY['bureau:coordinator', 'bureau:head'], 'draw ' || p_what || ' again (only the bureau redraws)');
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 THEN
    RAISE EXCEPTION 'drawing % again needs the bureau''s reason', p_what
      USING ERRCODE = 'check_violation';
  END IF;
END $$;

-- Replaces 061's check: a draw is checked when it is made; its enterprises are checked against
-- the list as it is then (a later import of the list leaves earlier draws as they were).
CREATE OR REPLACE FUNCTION samples_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE earlier boolean;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF pg_trigger_depth() > 1 AND OLD.official AND NOT NEW.official
       AND NEW.superseded_by IS NOT NULL
       AND (to_jsonb(NEW) - 'official' - 'superseded_by') = (to_jsonb(OLD) - 'official' - 'superseded_by') THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a drawn sample is never changed: draw again (the bureau, with a reason)'
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM campaign_require_running(NEW.campaign_id);
  PERFORM pg_advisory_xact_lock(hashtext('samples:' || NEW.campaign_id));
  SELECT EXISTS (SELECT 1 FROM samples WHERE campaign_id = NEW.campaign_id) INTO earlier;
  PERFORM campaign_check_redraw(NEW.campaign_id, NEW.drawn_by, earlier, NEW.reason,
    'the verification sample');
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
  NEW.draw_no := coalesce((SELECT max(draw_no) FROM samples WHERE campaign_id = NEW.campaign_id), 0) + 1;
  NEW.official := true;
  UPDATE samples SET official = false, superseded_by = NEW.draw_no
   WHERE campaign_id = NEW.campaign_id AND official;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS samples_check ON samples;
CREATE TRIGGER samples_check BEFORE INSERT OR UPDATE ON samples
  FOR EACH ROW EXECUTE FUNCTION samples_check();
DROP TRIGGER IF EXISTS samples_no_delete ON samples;

-- ---- record lists ----
CREATE TABLE IF NOT EXISTS record_lists (
  campaign_id  text NOT NULL REFERENCES campaigns(campaign_id) ON DELETE CASCADE,
  list_no      integer NOT NULL,
  indicator    text NOT NULL,
  unit_id      text NOT NULL,
  file_name    text NOT NULL CHECK (length(file_name) <= 500),
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  format       text NOT NULL CHECK (format IN ('csv', 'xlsx')),
  encoding     text,
  records      integer NOT NULL CHECK (records > 0),
  uploaded_by  text NOT NULL,
  uploaded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, list_no),
  FOREIGN KEY (campaign_id, indicator) REFERENCES indicators(campaign_id, code) ON DELETE CASCADE,
  FOREIGN KEY (campaign_id, unit_id) REFERENCES units(campaign_id, unit_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS record_lists_by_unit ON record_lists (campaign_id, indicator, unit_id, list_no DESC);
ALTER TABLE record_lists OWNER TO campaign_owner;

CREATE TABLE IF NOT EXISTS business_records (
  campaign_id    text NOT NULL,
  list_no        integer NOT NULL,
  record_no      text NOT NULL CHECK (length(record_no) BETWEEN 1 AND 256),
  place          text NOT NULL,
  handled_on     date NOT NULL,
  matter         text NOT NULL,
  applicant      text NOT NULL,
  handling_days  numeric NOT NULL CHECK (handling_days >= 0),
  extra          jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (campaign_id, list_no, record_no),
  FOREIGN KEY (campaign_id, list_no) REFERENCES record_lists(campaign_id, list_no) ON DELETE CASCADE
);
ALTER TABLE business_records OWNER TO campaign_owner;

-- Who uploads: a person of the unit, or the bureau's coordinators and head; the unit is the
-- indicator's lead or a cooperating unit; the campaign runs.
CREATE OR REPLACE FUNCTION record_lists_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE pu text; k text; r text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'an uploaded record list is never changed: upload a new one'
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM campaign_require_running(NEW.campaign_id);
  IF NOT EXISTS (SELECT 1 FROM indicators i WHERE i.campaign_id = NEW.campaign_id AND i.code = NEW.indicator
                   AND (i.lead_unit = NEW.unit_id OR NEW.unit_id = ANY (i.cooperating_units))) THEN
    RAISE EXCEPTION 'unit "%" is neither the lead nor a cooperating unit of %', NEW.unit_id, NEW.indicator
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT p.unit_id, u.kind, p.role INTO pu, k, r
    FROM people p JOIN units u ON u.campaign_id = p.campaign_id AND u.unit_id = p.unit_id
   WHERE p.campaign_id = NEW.campaign_id AND p.person_id = NEW.uploaded_by;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown person "%": not on the roster of campaign "%"', NEW.uploaded_by, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF pu <> NEW.unit_id AND NOT (k = 'bureau' AND r IN ('coordinator', 'head')) THEN
    RAISE EXCEPTION '% (% in "%") may not upload the record list of "%"', NEW.uploaded_by, r, pu, NEW.unit_id
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('record_lists:' || NEW.campaign_id));
  NEW.list_no := coalesce((SELECT max(list_no) FROM record_lists WHERE campaign_id = NEW.campaign_id), 0) + 1;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS record_lists_check ON record_lists;
CREATE TRIGGER record_lists_check BEFORE INSERT OR UPDATE ON record_lists
  FOR EACH ROW EXECUTE FUNCTION record_lists_check();

CREATE OR REPLACE FUNCTION business_records_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'an uploaded business record is never changed: upload a new list'
    USING ERRCODE = 'check_violation';
END $$;
DROP TRIGGER IF EXISTS business_records_check ON business_records;
CREATE TRIGGER business_records_check BEFORE UPDATE ON business_records
  FOR EACH ROW EXECUTE FUNCTION business_records_check();

-- ---- the record sample of an indicator: numbered draws, one official ----
CREATE TABLE IF NOT EXISTS record_samples (
  campaign_id    text NOT NULL REFERENCES campaigns(campaign_id) ON DELETE CASCADE,
  indicator      text NOT NULL,
  draw_no        integer NOT NULL,
  seed           text NOT NULL CHECK (length(seed) BETWEEN 1 AND 200),
  proportion     numeric CHECK (proportion > 0 AND proportion <= 1),
  count          integer CHECK (count >= 1),
  stratified     boolean NOT NULL,
  population     integer NOT NULL CHECK (population >= 1),
  size           integer NOT NULL CHECK (size >= 1 AND size <= population),
  lists          integer[] NOT NULL,
  official       boolean NOT NULL DEFAULT true,
  reason         text CHECK (reason IS NULL OR (length(btrim(reason)) > 0 AND length(reason) <= 2000)),
  superseded_by  integer,
  drawn_by       text NOT NULL,
  drawn_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, indicator, draw_no),
  CHECK ((proportion IS NULL) <> (count IS NULL)),
  FOREIGN KEY (campaign_id, indicator) REFERENCES indicators(campaign_id, code) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS record_samples_one_official
  ON record_samples (campaign_id, indicator) WHERE official;
ALTER TABLE record_samples OWNER TO campaign_owner;

CREATE OR REPLACE FUNCTION record_samples_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE earlier boolean;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF pg_trigger_depth() > 1 AND OLD.official AND NOT NEW.official
       AND NEW.superseded_by IS NOT NULL
       AND (to_jsonb(NEW) - 'official' - 'superseded_by') = (to_jsonb(OLD) - 'official' - 'superseded_by') THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a drawn record sample is never changed: draw again (the bureau, with a reason)'
      USING ERRCODE = 'check_violation';
  END IF;
  PERFORM campaign_require_running(NEW.campaign_id);
  PERFORM pg_advisory_xact_lock(hashtext('record_samples:' || NEW.campaign_id || '/' || NEW.indicator));
  SELECT EXISTS (SELECT 1 FROM record_samples WHERE campaign_id = NEW.campaign_id AND indicator = NEW.indicator)
    INTO earlier;
  PERFORM campaign_check_redraw(NEW.campaign_id, NEW.drawn_by, earlier, NEW.reason,
    'the record sample of ' || NEW.indicator);
  NEW.draw_no := coalesce((SELECT max(draw_no) FROM record_samples
                            WHERE campaign_id = NEW.campaign_id AND indicator = NEW.indicator), 0) + 1;
  NEW.official := true;
  UPDATE record_samples SET official = false, superseded_by = NEW.draw_no
   WHERE campaign_id = NEW.campaign_id AND indicator = NEW.indicator AND official;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS record_samples_check ON record_samples;
CREATE TRIGGER record_samples_check BEFORE INSERT OR UPDATE ON record_samples
  FOR EACH ROW EXECUTE FUNCTION record_samples_check();

-- One row per sampled record: its evidence request (a task) once sent, and the outcome once
-- verified. The record itself never changes; the request and the outcome are set once each.
CREATE TABLE IF NOT EXISTS record_sample_items (
  campaign_id   text NOT NULL,
  indicator     text NOT NULL,
  draw_no       integer NOT NULL,
  list_no       integer NOT NULL,
  record_no     text NOT NULL,
  unit_id       text NOT NULL,
  task_id       text,
  requested_at  timestamptz,
  outcome       text CHECK (outcome IN ('confirmed', 'discrepant')),
  note          text,
  verified_by   text,
  verified_at   timestamptz,
  PRIMARY KEY (campaign_id, indicator, draw_no, list_no, record_no),
  FOREIGN KEY (campaign_id, indicator, draw_no)
    REFERENCES record_samples(campaign_id, indicator, draw_no) ON DELETE CASCADE,
  FOREIGN KEY (campaign_id, list_no, record_no)
    REFERENCES business_records(campaign_id, list_no, record_no) ON DELETE CASCADE,
  CHECK ((outcome IS NULL) = (verified_at IS NULL))
);
CREATE INDEX IF NOT EXISTS record_sample_items_by_task ON record_sample_items (task_id)
  WHERE task_id IS NOT NULL;
ALTER TABLE record_sample_items OWNER TO campaign_owner;

CREATE OR REPLACE FUNCTION record_sample_items_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    RETURN NEW;
  END IF;
  IF (to_jsonb(NEW) - 'task_id' - 'requested_at' - 'outcome' - 'note' - 'verified_by' - 'verified_at')
     <> (to_jsonb(OLD) - 'task_id' - 'requested_at' - 'outcome' - 'note' - 'verified_by' - 'verified_at') THEN
    RAISE EXCEPTION 'a sampled record is never changed' USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.task_id IS NOT NULL AND NEW.task_id IS DISTINCT FROM OLD.task_id THEN
    RAISE EXCEPTION 'the evidence request of a sampled record is already %', OLD.task_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.outcome IS NOT NULL AND (NEW.outcome IS DISTINCT FROM OLD.outcome
      OR NEW.verified_at IS DISTINCT FROM OLD.verified_at) THEN
    RAISE EXCEPTION 'sampled record % is already verified (%)', OLD.record_no, OLD.outcome
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS record_sample_items_check ON record_sample_items;
CREATE TRIGGER record_sample_items_check BEFORE UPDATE ON record_sample_items
  FOR EACH ROW EXECUTE FUNCTION record_sample_items_check();

-- The CLI writes as the owner; the worker, the reports and the portal read.
GRANT SELECT, INSERT, UPDATE ON record_lists, business_records, record_samples, record_sample_items
  TO campaign_worker;
GRANT SELECT ON record_lists, business_records, record_samples, record_sample_items
  TO campaign_reports, campaign_portal;
