// The enterprise questionnaire's SQL (migration 066), shared by the CLI, the dispatch digest and
// the board: the roll (the latest sample × the questionnaires each sampled enterprise answers),
// the latest word on each answer, and the rates computed from them (domain/questionnaire.ts).
import type pg from 'pg';
import {
  nonRespondentsByUnit,
  questionnaireRoll,
  responseRates,
  type NonRespondent,
  type ResponseRates,
  type RollEntry,
} from '../domain/questionnaire.ts';

export const QQ = {
  /** The sample the questionnaires follow: the latest draw. */
  sample: {
    name: 'qn-sample',
    text: `SELECT seed, enterprises, drawn_at FROM samples WHERE campaign_id = $1
            ORDER BY drawn_at DESC, seed LIMIT 1`,
  },
  enterprises: {
    name: 'qn-enterprises',
    text: `SELECT credit_code, name, supervisor_unit, questionnaires FROM enterprises
            WHERE campaign_id = $1 AND credit_code = ANY($2::text[])`,
  },
  indicators: {
    name: 'qn-indicators',
    text: 'SELECT code, name, lead_unit FROM indicators WHERE campaign_id = $1 ORDER BY position',
  },
  answers: {
    name: 'qn-answers',
    text: `SELECT credit_code, indicator, answered, answered_on::text AS answered_on, source, recorded_by, recorded_at
             FROM questionnaire_answers WHERE campaign_id = $1`,
  },
  upsertAnswer: {
    name: 'qn-upsert-answer',
    text: `INSERT INTO questionnaire_answers
             (campaign_id, credit_code, indicator, answered, answered_on, source, recorded_by)
           SELECT $1, x.credit_code, x.indicator, x.answered, x.answered_on::date, $2, $3
             FROM jsonb_to_recordset($4::jsonb) AS x(credit_code text, indicator text, answered boolean, answered_on text)
           ON CONFLICT (campaign_id, credit_code, indicator) DO UPDATE
             SET answered = EXCLUDED.answered, answered_on = EXCLUDED.answered_on,
                 source = EXCLUDED.source, recorded_by = EXCLUDED.recorded_by, recorded_at = now()`,
  },
  visits: {
    name: 'qn-visits',
    text: `SELECT code, no, kind, visited_on::text AS visited_on, place, outcome, note, recorded_by, recorded_at
             FROM verification_visits WHERE campaign_id = $1 AND ($2::text IS NULL OR code = $2)
            ORDER BY code, no`,
  },
  insertVisit: {
    name: 'qn-insert-visit',
    text: `INSERT INTO verification_visits
             (campaign_id, code, request_id, kind, visited_on, place, outcome, note, recorded_by)
           VALUES ($1,$2,$3,$4,$5::date,$6,$7,$8,$9) ON CONFLICT (campaign_id, request_id) DO NOTHING`,
  },
} as const;

export interface QuestionnaireAnswer {
  creditCode: string;
  indicator: string;
  answered: boolean;
  answeredOn: string | null;
  source: string;
  recordedBy: string;
  recordedAt: Date;
}

export interface QuestionnaireState {
  /** The draw followed, or null before any sample. */
  sample: { seed: string; size: number } | null;
  indicators: { code: string; name: string; leadUnit: string }[];
  roll: RollEntry[];
  answers: QuestionnaireAnswer[];
  rates: ResponseRates;
  nonRespondents: Map<string, NonRespondent[]>;
}

/** The questionnaire's roll, answers and rates as PostgreSQL has them now. */
export async function readQuestionnaire(
  pool: pg.Pool | pg.PoolClient,
  campaignId: string,
): Promise<QuestionnaireState> {
  const [sample, indicators, answers] = await Promise.all([
    pool.query<{ seed: string; enterprises: string[] }>({ ...QQ.sample, values: [campaignId] }),
    pool.query<{ code: string; name: string; lead_unit: string }>({
      ...QQ.indicators,
      values: [campaignId],
    }),
    pool.query<{
      credit_code: string;
      indicator: string;
      answered: boolean;
      answered_on: string | null;
      source: string;
      recorded_by: string;
      recorded_at: Date;
    }>({ ...QQ.answers, values: [campaignId] }),
  ]);
  const drawn = sample.rows[0];
  const codes = drawn?.enterprises ?? [];
  const enterprises = codes.length
    ? (
        await pool.query<{
          credit_code: string;
          name: string;
          supervisor_unit: string | null;
          questionnaires: string[] | null;
        }>({ ...QQ.enterprises, values: [campaignId, codes] })
      ).rows
    : [];
  const inds = indicators.rows.map((i) => ({ code: i.code, name: i.name, leadUnit: i.lead_unit }));
  const roll = questionnaireRoll(
    codes,
    enterprises.map((e) => ({
      creditCode: e.credit_code,
      name: e.name,
      supervisorUnit: e.supervisor_unit,
      questionnaires: e.questionnaires,
    })),
    inds,
  );
  const list: QuestionnaireAnswer[] = answers.rows.map((a) => ({
    creditCode: a.credit_code,
    indicator: a.indicator,
    answered: a.answered,
    answeredOn: a.answered_on,
    source: a.source,
    recordedBy: a.recorded_by,
    recordedAt: a.recorded_at,
  }));
  return {
    sample: drawn ? { seed: drawn.seed, size: codes.length } : null,
    indicators: inds,
    roll,
    answers: list,
    rates: responseRates(
      roll,
      list,
      inds.map((i) => i.code),
    ),
    nonRespondents: nonRespondentsByUnit(roll, list),
  };
}

/** The rates as the board and the dispatch digest carry them (null before any sample). */
export async function questionnaireSummary(
  pool: pg.Pool | pg.PoolClient,
  campaignId: string,
): Promise<(ResponseRates & { sampleSeed: string }) | null> {
  const q = await readQuestionnaire(pool, campaignId);
  if (!q.sample || !q.roll.length) return null;
  return { sampleSeed: q.sample.seed, ...q.rates };
}
