// Starting a campaign from a checked definition, for the CLI's `campaign start` and the portal's
// start page alike: the rehearsal's move (--begin/--pace, or the page's choice), the plan, the
// phase that has already ended (each caller says so in its own words), the workflow started with
// its id, summary and search attributes, and the wait for the worker's record in PostgreSQL.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import { BusinessCalendar } from '../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../domain/campaign.ts';
import type { CampaignDefinition, PhaseName } from '../domain/definition.ts';
import { PHASE_ORDER } from '../domain/phase-control.ts';
import { rehearse, type RehearsalOptions } from '../domain/rehearsal.ts';
import { SA } from '../domain/search-attributes.ts';
import type { DefinitionProblem } from '../domain/validate.ts';
import type { LoadedDefinition } from './definition-file.ts';

/** Campaign ids the engine accepts (the CLI's --id, the portal's field). */
export const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface StartPlan {
  input: CampaignInput;
  /** The rehearsal's warnings (a year the holiday package does not know). */
  warnings: DefinitionProblem[];
  /** The first phase whose window has already ended, with its end; null when none has. */
  over: { phase: PhaseName; end: number } | null;
}

/**
 * The workflow's input for a valid definition, moved by a rehearsal when asked (a
 * RehearsalError says what is wrong with the move), under another id when given.
 */
export function planStart(
  loaded: { definition: CampaignDefinition; calendar: NonNullable<LoadedDefinition['calendar']> },
  opts: { rehearsal?: RehearsalOptions; id?: string; startedBy: string | null },
  now: () => number,
): StartPlan {
  let def = structuredClone(loaded.definition);
  let calendar = loaded.calendar;
  let warnings: DefinitionProblem[] = [];
  if (opts.rehearsal && (opts.rehearsal.begin !== undefined || opts.rehearsal.pace !== undefined)) {
    const moved = rehearse(def, opts.rehearsal, now);
    def = moved.definition;
    calendar = moved.calendar;
    warnings = moved.warnings;
  }
  if (opts.id) def.campaign.id = opts.id;
  const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
  const t = now();
  const phase = PHASE_ORDER.find((ph) => plan.phases[ph].end <= t);
  return {
    input: { definition: def, calendar, plan, startedBy: opts.startedBy },
    warnings,
    over: phase ? { phase, end: plan.phases[phase].end } : null,
  };
}

/**
 * Starts the campaign's workflow; `from` says where the definition came from (in its details).
 * Answers 'already-started' when a campaign of that id was started before.
 */
export async function startCampaignWorkflow(
  client: Client,
  taskQueue: string,
  input: CampaignInput,
  from: string,
): Promise<'started' | 'already-started'> {
  const def = input.definition;
  const campaignId = def.campaign.id;
  try {
    await client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: campaignId,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `考核评价：${def.campaign.name}`,
      staticDetails: `${def.campaign.county} ${def.campaign.year}; ${def.indicators.length} indicators, ${def.units.length} units; started from ${from}`,
      typedSearchAttributes: [
        { key: SA.campaignId, value: campaignId },
        { key: SA.kind, value: 'campaign' },
        { key: SA.phase, value: 'scheduled' },
      ],
    });
    return 'started';
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
    throw e;
  }
}

/** Waits briefly for the worker to record the campaign (its first step); false if it has not. */
export async function waitForCampaignRecord(pool: pg.Pool, campaignId: string): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const r = await pool.query('SELECT 1 FROM campaigns WHERE campaign_id = $1', [campaignId]);
    if (r.rowCount) return true;
    await new Promise((res) => setTimeout(res, 250));
  }
  return false;
}
