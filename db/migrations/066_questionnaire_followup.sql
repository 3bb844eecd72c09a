-- The enterprise questionnaire followed (企业问卷跟踪) and the evaluator's site visits and
-- interviews (实地核查、访谈).
--
-- The enterprise list may name each enterprise's supervising department (主管部门) and the
-- indicators whose questionnaire it answers (问卷指标; none named: every indicator's).
ALTER TABLE enterprises ADD COLUMN IF NOT EXISTS supervisor_unit text;
ALTER TABLE enterprises ADD COLUMN IF NOT EXISTS questionnaires text[];

-- Whether a sampled enterprise answered an indicator's questionnaire: the latest word, with who
-- recorded it and when; every word also kept in questionnaire_answer_log (append-only).
CREATE TABLE IF NOT EXISTS questionnaire_answers (
  campaign_id  text NOT NULL,
  credit_code  text NOT NULL,
  indicator    text NOT NULL,
  answered     boolean NOT NULL,
  answered_on  date,
  source       text NOT NULL CHECK (source IN ('import', 'mark')),
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, credit_code, indicator)
);
ALTER TABLE questionnaire_answers OWNER TO campaign_owner;

CREATE TABLE IF NOT EXISTS questionnaire_answer_log (
  campaign_id  text NOT NULL,
  no           integer GENERATED ALWAYS AS IDENTITY,
  credit_code  text NOT NULL,
  indicator    text NOT NULL,
  answered     boolean NOT NULL,
  answered_on  date,
  source       text NOT NULL,
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL,
  PRIMARY KEY (campaign_id, no)
);
ALTER TABLE questionnaire_answer_log OWNER TO campaign_owner;

CREATE OR REPLACE FUNCTION questionnaire_answers_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM campaign_require_running(NEW.campaign_id);
  PERFORM campaign_require_person(NEW.campaign_id, NEW.recorded_by,
    ARRAY['bureau:coordinator', 'bureau:head', 'evaluator:evaluator', 'evaluator:head'],
    'record questionnaire answers');
  IF NOT EXISTS (SELECT 1 FROM enterprises
                  WHERE campaign_id = NEW.campaign_id AND credit_code = NEW.credit_code) THEN
    RAISE EXCEPTION 'enterprise % is not on the list of campaign %', NEW.credit_code, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM indicators WHERE campaign_id = NEW.campaign_id AND code = NEW.indicator) THEN
    RAISE EXCEPTION 'unknown indicator "%" in campaign "%"', NEW.indicator, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS questionnaire_answers_check ON questionnaire_answers;
CREATE TRIGGER questionnaire_answers_check BEFORE INSERT OR UPDATE ON questionnaire_answers
  FOR EACH ROW EXECUTE FUNCTION questionnaire_answers_check();

CREATE OR REPLACE FUNCTION questionnaire_answers_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO questionnaire_answer_log
    (campaign_id, credit_code, indicator, answered, answered_on, source, recorded_by, recorded_at)
  VALUES (NEW.campaign_id, NEW.credit_code, NEW.indicator, NEW.answered, NEW.answered_on,
          NEW.source, NEW.recorded_by, NEW.recorded_at);
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS questionnaire_answers_log ON questionnaire_answers;
CREATE TRIGGER questionnaire_answers_log AFTER INSERT OR UPDATE ON questionnaire_answers
  FOR EACH ROW EXECUTE FUNCTION questionnaire_answers_log();

CREATE OR REPLACE FUNCTION questionnaire_answer_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the questionnaire answer log is append-only' USING ERRCODE = 'check_violation';
END $$;
DROP TRIGGER IF EXISTS questionnaire_answer_log_append_only ON questionnaire_answer_log;
CREATE TRIGGER questionnaire_answer_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
  ON questionnaire_answer_log FOR EACH STATEMENT EXECUTE FUNCTION questionnaire_answer_log_append_only();

-- A site visit or an interview: a verification item with its date, place, outcome and note. The
-- item is also recorded through the indicator's workflow (update verify, the same request id),
-- so that a discrepancy is flagged and escalated like any verified item.
CREATE TABLE IF NOT EXISTS verification_visits (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  no           integer GENERATED ALWAYS AS IDENTITY,
  request_id   text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('site-visit', 'interview')),
  visited_on   date NOT NULL,
  place        text NOT NULL CHECK (length(btrim(place)) > 0 AND length(place) <= 500),
  outcome      text NOT NULL CHECK (outcome IN ('confirmed', 'discrepant')),
  note         text CHECK (note IS NULL OR length(note) <= 10000),
  recorded_by  text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, code, no),
  UNIQUE (campaign_id, request_id)
);
ALTER TABLE verification_visits OWNER TO campaign_owner;

CREATE OR REPLACE FUNCTION verification_visits_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM campaign_require_running(NEW.campaign_id);
  PERFORM campaign_require_person(NEW.campaign_id, NEW.recorded_by,
    ARRAY['evaluator:evaluator', 'evaluator:head'], 'record a site visit or an interview');
  IF NOT EXISTS (SELECT 1 FROM indicators WHERE campaign_id = NEW.campaign_id AND code = NEW.code) THEN
    RAISE EXCEPTION 'unknown indicator "%" in campaign "%"', NEW.code, NEW.campaign_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS verification_visits_check ON verification_visits;
CREATE TRIGGER verification_visits_check BEFORE INSERT OR UPDATE ON verification_visits
  FOR EACH ROW EXECUTE FUNCTION verification_visits_check();

-- The CLI writes as the owner; the worker (the dispatch digest), the reports and the portal read.
GRANT SELECT ON questionnaire_answers, questionnaire_answer_log, verification_visits
  TO campaign_worker, campaign_reports, campaign_portal;
