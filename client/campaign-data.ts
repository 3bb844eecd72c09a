// What the CLI's campaign commands and the portal's bureau and evaluator pages both do with a
// campaign's data: the enterprise list checked against the campaign (its 主管部门 and 问卷指标
// columns too) and put in place of the previous one, an adjustment of a unit's assessment
// recorded, a site visit's item and record, a phase's new end read from what a person wrote.
import type pg from 'pg';
import { withTransaction } from '../db/pool.ts';
import { QQ } from '../db/questionnaire.ts';
import type { CampaignDefinition } from '../domain/definition.ts';
import {
  checkEnterpriseRows,
  ENTERPRISE_COLUMNS,
  normaliseCreditCode,
  type CsvTable,
  type EnterpriseRow,
  type RowProblem,
} from '../domain/imports.ts';
import { checkRollColumns } from '../domain/questionnaire.ts';
import { parseMoment } from '../domain/time.ts';

type RollColumns = { supervisor_unit: string | null; questionnaires: string[] | null };

export interface CheckedEnterpriseList {
  good: EnterpriseRow[];
  /** Each enterprise's 主管部门 and 问卷指标 by its credit code. */
  roll: Map<string, RollColumns>;
  /** One entry per bad line, the list's own problems and its questionnaire columns' together. */
  rejected: RowProblem[];
}

/** The rows of an enterprise list checked, with the campaign's units and indicators. */
export function checkEnterpriseList(
  rows: CsvTable['rows'],
  header: string[],
  def: CampaignDefinition,
): CheckedEnterpriseList {
  const { rows: good, rejected } = checkEnterpriseRows(rows, header);
  const checked = checkRollColumns(rows, header, {
    units: def.units,
    indicatorCodes: def.indicators.map((i) => i.code),
  });
  const codeColumn = ENTERPRISE_COLUMNS.creditCode.find((n) => header.includes(n));
  const roll = new Map<string, RollColumns>();
  for (const r of rows) {
    const v = checked.values.get(r.line);
    if (v && codeColumn)
      roll.set(normaliseCreditCode(r.values[codeColumn] ?? ''), {
        supervisor_unit: v.supervisorUnit,
        questionnaires: v.questionnaires,
      });
  }
  for (const p of checked.rejected) {
    const same = rejected.find((r) => r.line === p.line);
    if (same) same.message = `${same.message}; ${p.message}`;
    else rejected.push(p);
  }
  rejected.sort((a, b) => a.line - b.line);
  return { good, roll, rejected };
}

/** Rows inserted per statement; all of them in one transaction, so nothing is half-imported. */
const ENTERPRISE_BATCH = 500;

/** The list is the full list: it replaces the previous one, in one transaction. */
export async function replaceEnterpriseList(
  pool: pg.Pool,
  campaignId: string,
  importedBy: string,
  list: Pick<CheckedEnterpriseList, 'good' | 'roll'>,
  onProgress?: (inserted: number) => void,
): Promise<number> {
  const { good, roll } = list;
  await withTransaction(pool, async (client) => {
    await client.query('DELETE FROM enterprises WHERE campaign_id = $1', [campaignId]);
    for (let i = 0; i < good.length; i += ENTERPRISE_BATCH) {
      const chunk = good.slice(i, i + ENTERPRISE_BATCH);
      await client.query(
        `INSERT INTO enterprises (campaign_id, credit_code, name, industry, town, imported_by,
                                  supervisor_unit, questionnaires)
         SELECT $1, x.credit_code, x.name, x.industry, x.town, $2, x.supervisor_unit,
                CASE WHEN x.questionnaires IS NULL THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(x.questionnaires)) END
         FROM jsonb_to_recordset($3::jsonb)
           AS x(credit_code text, name text, industry text, town text,
                supervisor_unit text, questionnaires jsonb)`,
        [
          campaignId,
          importedBy,
          JSON.stringify(
            chunk.map((r) => ({
              credit_code: r.creditCode,
              name: r.name,
              industry: r.industry,
              town: r.town,
              ...roll.get(r.creditCode),
            })),
          ),
        ],
      );
      onProgress?.(i + chunk.length);
    }
  });
  return good.length;
}

/** An adjustment of a department's assessment, recorded once and never changed. */
export async function insertAssessmentAdjustment(
  pool: pg.Pool,
  campaignId: string,
  a: { unit: string; points: number; reason: string; by: string },
): Promise<{ no: number; at: Date }> {
  const r = await pool.query<{ no: number; at: Date }>(
    `INSERT INTO assessment_adjustments (campaign_id, unit_id, points, reason, by_person)
     VALUES ($1, $2, $3, $4, $5) RETURNING no, at`,
    [campaignId, a.unit, a.points, a.reason, a.by],
  );
  return r.rows[0]!;
}

export type VisitKind = 'site-visit' | 'interview';
export const VISIT_ZH = { 'site-visit': '实地核查', interview: '访谈' } as const;

/** The verified item a site visit or an interview is recorded as on its indicator. */
export const visitItem = (kind: VisitKind, day: string, place: string): string =>
  `${VISIT_ZH[kind]} ${day} ${place}`.slice(0, 2000);

/** The visit's own record beside the verified item (once per request id). */
export async function saveVisit(
  pool: pg.Pool,
  campaignId: string,
  code: string,
  requestId: string,
  v: {
    kind: VisitKind;
    day: string;
    place: string;
    outcome: 'confirmed' | 'discrepant';
    note: string | null;
    by: string;
  },
): Promise<void> {
  await pool.query({
    ...QQ.insertVisit,
    values: [campaignId, code, requestId, v.kind, v.day, v.place, v.outcome, v.note, v.by],
  });
}

/**
 * A phase's new end as a person wrote it, in the campaign's time zone: a date-time, or a bare
 * date meaning the end of that working day. Undefined when it is neither.
 */
export function phaseEndOf(
  text: string,
  timeZone: string,
  def: Pick<CampaignDefinition, 'calendar'>,
): number | undefined {
  const m = parseMoment(text, timeZone);
  if (!m) return undefined;
  return m.kind === 'instant'
    ? m.instant
    : (parseMoment(`${m.date}T${def.calendar.workdayEnd}`, timeZone) as { instant: number })
        .instant;
}
