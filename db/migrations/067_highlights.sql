-- Highlights, typical cases and publicity (突出亮点、典型案例、宣传引导).
--
-- A highlight or typical case is proposed as the submission of a task of kind `highlight` or
-- `case` and selected by the bureau's approval. `highlights` is the registry kept from the
-- tasks projection: a trigger on `tasks` writes one row per such task, with the proposal of its
-- last submission and a state read from the task's (requested, proposed, returned, selected,
-- cancelled). A selected typical case takes one of its indicator's numbered places, 1 to the
-- definition's `highlights.maxTypicalCasesPerIndicator` (default 10): the constraints below
-- make more than that impossible, and a case approved when every place is taken is recorded as
-- `over-limit`, not selected (the CLI refuses such an approval before it is sent).
CREATE TABLE IF NOT EXISTS highlights (
  task_id     text PRIMARY KEY REFERENCES tasks (task_id) ON DELETE CASCADE,
  campaign_id text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('highlight', 'case')),
  unit_id     text NOT NULL,
  indicator   text,
  state       text NOT NULL
    CHECK (state IN ('requested', 'proposed', 'returned', 'selected', 'over-limit', 'cancelled')),
  proposer    text,
  title       text,
  description text,
  replicable  boolean,
  evidence    text[] NOT NULL DEFAULT '{}',
  proposed_at timestamptz,
  decided_at  timestamptz,
  slot        integer,
  max_cases   integer NOT NULL CHECK (max_cases BETWEEN 1 AND 100),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT highlights_slot_of_selected_case
    CHECK ((slot IS NOT NULL) = (kind = 'case' AND state = 'selected')),
  CONSTRAINT highlights_cases_per_indicator CHECK (slot IS NULL OR slot BETWEEN 1 AND max_cases),
  CONSTRAINT highlights_one_case_per_place UNIQUE (campaign_id, indicator, slot)
);
CREATE INDEX IF NOT EXISTS highlights_by_campaign ON highlights (campaign_id, indicator, kind);
ALTER TABLE highlights OWNER TO campaign_owner;

-- The cap of a campaign, from its recorded definition.
CREATE OR REPLACE FUNCTION highlights_max_cases(p_campaign text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce((definition -> 'highlights' ->> 'maxTypicalCasesPerIndicator')::integer, 10)
    FROM campaigns WHERE campaign_id = p_campaign
$$;

-- Every write of a registry row, by the projection or any other client: the cap comes from the
-- definition, the indicator is the campaign's, and a case becoming selected takes the lowest
-- free place of its indicator (one writer at a time per indicator), or none when all are taken.
CREATE OR REPLACE FUNCTION highlights_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE place integer;
BEGIN
  NEW.max_cases := coalesce(highlights_max_cases(NEW.campaign_id), 10);
  NEW.updated_at := now();
  IF NEW.indicator IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM indicators WHERE campaign_id = NEW.campaign_id AND code = NEW.indicator) THEN
    RAISE EXCEPTION 'unknown indicator "%" in campaign "%"', NEW.indicator, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.kind <> 'case' OR NEW.state <> 'selected' THEN
    NEW.slot := NULL;
    RETURN NEW;
  END IF;
  -- Decided once: a case selected keeps its place, one over the limit stays so.
  IF TG_OP = 'UPDATE' AND OLD.state = 'selected' AND OLD.slot IS NOT NULL
     AND OLD.indicator IS NOT DISTINCT FROM NEW.indicator THEN
    NEW.slot := OLD.slot;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.state = 'over-limit' THEN
    NEW.state := 'over-limit';
    NEW.slot := NULL;
    RETURN NEW;
  END IF;
  IF NEW.indicator IS NULL THEN
    RAISE EXCEPTION 'a typical case needs its indicator' USING ERRCODE = 'check_violation';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('highlights/' || NEW.campaign_id || '/' || NEW.indicator, 67));
  SELECT min(s) INTO place FROM generate_series(1, NEW.max_cases) AS s
   WHERE NOT EXISTS (SELECT 1 FROM highlights h
                      WHERE h.campaign_id = NEW.campaign_id AND h.indicator = NEW.indicator
                        AND h.slot = s AND h.task_id <> NEW.task_id);
  IF place IS NULL THEN
    NEW.state := 'over-limit';
    NEW.slot := NULL;
  ELSE
    NEW.slot := place;
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS highlights_check ON highlights;
CREATE TRIGGER highlights_check BEFORE INSERT OR UPDATE ON highlights
  FOR EACH ROW EXECUTE FUNCTION highlights_check();

-- The projection: a task of kind highlight or case, as the registry reads it.
CREATE OR REPLACE FUNCTION highlights_project() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  sub  jsonb := CASE WHEN jsonb_typeof(NEW.last_submission) = 'object' THEN NEW.last_submission END;
  data jsonb := CASE WHEN jsonb_typeof(NEW.last_submission -> 'data') = 'object'
                     THEN NEW.last_submission -> 'data' ELSE '{}'::jsonb END;
  st   text := CASE NEW.state WHEN 'open' THEN 'requested' WHEN 'submitted' THEN 'proposed'
                   WHEN 'returned' THEN 'returned' WHEN 'done' THEN 'selected' ELSE 'cancelled' END;
BEGIN
  INSERT INTO highlights AS h (task_id, campaign_id, kind, unit_id, indicator, state, proposer,
      title, description, replicable, evidence, proposed_at, decided_at, max_cases)
  VALUES (NEW.task_id, NEW.campaign_id, NEW.kind, NEW.unit_id,
      coalesce((SELECT code FROM indicators
                 WHERE campaign_id = NEW.campaign_id AND code = data ->> 'indicator'), NEW.indicator),
      st, sub ->> 'by',
      data ->> 'title', data ->> 'description',
      CASE WHEN jsonb_typeof(data -> 'replicable') = 'boolean' THEN (data ->> 'replicable')::boolean END,
      CASE WHEN jsonb_typeof(sub -> 'evidence') = 'array'
           THEN ARRAY(SELECT jsonb_array_elements_text(sub -> 'evidence')) ELSE '{}' END,
      CASE WHEN sub ? 'at' AND jsonb_typeof(sub -> 'at') = 'number'
           THEN to_timestamp((sub ->> 'at')::double precision / 1000) END,
      CASE WHEN NEW.state IN ('done', 'cancelled') THEN NEW.completed_at END,
      10)
  ON CONFLICT (task_id) DO UPDATE SET
    indicator = EXCLUDED.indicator, state = EXCLUDED.state, proposer = EXCLUDED.proposer,
    title = EXCLUDED.title, description = EXCLUDED.description, replicable = EXCLUDED.replicable,
    evidence = EXCLUDED.evidence, proposed_at = EXCLUDED.proposed_at,
    decided_at = EXCLUDED.decided_at;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS highlights_project ON tasks;
CREATE TRIGGER highlights_project AFTER INSERT OR UPDATE ON tasks
  FOR EACH ROW WHEN (NEW.kind IN ('highlight', 'case'))
  EXECUTE FUNCTION highlights_project();

-- Publicity (宣传引导): what a department's people published about its work, per channel.
-- Recorded by the CLI for the department's own people only (checked here for any client).
CREATE TABLE IF NOT EXISTS publicity (
  campaign_id  text NOT NULL,
  no           integer GENERATED ALWAYS AS IDENTITY,
  unit_id      text NOT NULL,
  channel      text NOT NULL CHECK (channel IN ('tv', 'web', 'newspaper', 'wechat', 'other')),
  title        text NOT NULL CHECK (length(btrim(title)) > 0 AND length(title) <= 500),
  link         text CHECK (link IS NULL OR (length(link) <= 2000 AND link ~* '^https?://[^[:space:]]+$')),
  published_on date NOT NULL,
  reach        bigint CHECK (reach IS NULL OR reach BETWEEN 0 AND 10000000000),
  by_person    text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, no)
);
CREATE INDEX IF NOT EXISTS publicity_by_unit ON publicity (campaign_id, unit_id, recorded_at);
ALTER TABLE publicity OWNER TO campaign_owner;

CREATE OR REPLACE FUNCTION publicity_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE k text; u text;
BEGIN
  PERFORM campaign_require_running(NEW.campaign_id);
  SELECT kind INTO k FROM units WHERE campaign_id = NEW.campaign_id AND unit_id = NEW.unit_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown unit "%" in campaign "%"', NEW.unit_id, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  ELSIF k <> 'department' THEN
    RAISE EXCEPTION 'unit "%" is a % unit: publicity is recorded per department', NEW.unit_id, k
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT unit_id INTO u FROM people WHERE campaign_id = NEW.campaign_id AND person_id = NEW.by_person;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown person "%": not on the roster of campaign "%"', NEW.by_person, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  ELSIF u <> NEW.unit_id THEN
    RAISE EXCEPTION '% is of unit "%": only the people of "%" record its publicity', NEW.by_person, u, NEW.unit_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS publicity_check ON publicity;
CREATE TRIGGER publicity_check BEFORE INSERT OR UPDATE ON publicity
  FOR EACH ROW EXECUTE FUNCTION publicity_check();

-- The worker's projection keeps the registry; the CLI writes publicity as the owner; reports and
-- the portal read both.
GRANT SELECT, INSERT, UPDATE, DELETE ON highlights TO campaign_worker;
GRANT SELECT ON publicity TO campaign_worker;
GRANT SELECT ON highlights, publicity TO campaign_reports, campaign_portal;
