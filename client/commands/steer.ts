// The bureau steers a running campaign: `campaign phase <id> close|extend <phase>` moves a
// phase window (the campaign re-dates the affected tasks and re-arms their timers), and
// `campaign cancel <id>` ends a campaign started by mistake or for a rehearsal. The campaign
// workflow decides and records; these commands only ask it.
import {
  cancelCampaignUpdate,
  movePhaseUpdate,
  type PhaseMoveResult,
} from '../../domain/messages.ts';
import type { PhaseName } from '../../domain/definition.ts';
import { PHASE_ORDER, type PhaseAction } from '../../domain/phase-control.ts';
import { label } from '../../domain/labels.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import { phaseEndOf } from '../campaign-data.ts';
import { derivedRequestId, sendUpdate, withDb } from '../connections.ts';
import { CliError, UsageError } from '../errors.ts';
import { colour, printJson, t, type OutputOptions } from '../output.ts';
import { loadRunningCampaign } from './board.ts';

export interface PhaseOptions {
  as: string;
  reason: string;
  until?: string;
  requestId?: string;
}

export async function phaseCommand(
  campaignId: string,
  action: string,
  phase: string,
  opts: PhaseOptions,
  out: OutputOptions,
): Promise<void> {
  if (action !== 'close' && action !== 'extend')
    throw new UsageError(`unknown action "${action}": close or extend`);
  if (!PHASE_ORDER.includes(phase as PhaseName))
    throw new UsageError(`unknown phase "${phase}": one of ${PHASE_ORDER.join(', ')}`);
  if (!opts.reason.trim()) throw new UsageError('moving a phase needs a reason (--reason)');
  if (action === 'close' && opts.until !== undefined)
    throw new UsageError('--until is for extend; close ends the phase now');
  const { definition, timeZone: tz } = await withDb((pool) =>
    loadRunningCampaign(pool, campaignId),
  );
  let until: number | undefined;
  if (action === 'extend') {
    if (!opts.until) throw new UsageError('extend needs --until DATETIME (e.g. 2026-10-20T18:00)');
    // A bare date means the end of that working day.
    until = phaseEndOf(opts.until, tz, definition);
    if (until === undefined)
      throw new UsageError(`--until "${opts.until}" is not a date-time such as 2026-10-20T18:00`);
  }
  const requestId =
    opts.requestId ??
    derivedRequestId('phase', campaignId, action, phase, opts.until, opts.as, opts.reason);
  const r: PhaseMoveResult = await sendUpdate(
    campaignId,
    movePhaseUpdate,
    {
      requestId,
      actor: opts.as,
      phase: phase as PhaseName,
      action: action as PhaseAction,
      until,
      reason: opts.reason,
    },
    `${action} ${phase}`,
    { updateId: requestId, what: 'campaign' },
  );
  if (out.json)
    return printJson({
      ...r,
      start: formatIsoOffset(r.start, tz),
      end: formatIsoOffset(r.end, tz),
    });
  const name = label(out.lang, r.phase);
  console.log(
    `${colour.ok('✓')} ${name} ${
      r.action === 'close'
        ? t(out.lang, '已结束于', 'closed at')
        : t(out.lang, '延至', 'extended to')
    } ${formatLocal(r.end, tz)}；${t(out.lang, '当前阶段', 'campaign now in')} ${label(out.lang, r.campaignPhase)}`,
  );
}

export async function cancelCampaignCommand(
  campaignId: string,
  opts: { as: string; reason: string; requestId?: string },
  out: OutputOptions,
): Promise<void> {
  if (!opts.reason.trim()) throw new UsageError('cancelling a campaign needs a reason (--reason)');
  // Cancelling is idempotent: a campaign already cancelled answers so (its workflow may have
  // ended by the time a retry arrives); one that has closed cannot be cancelled any more.
  const done = await withDb(async (pool) => {
    try {
      await loadRunningCampaign(pool, campaignId);
      return null;
    } catch (e) {
      if (e instanceof CliError && /was cancelled/.test(e.message)) return e.message;
      throw e;
    }
  });
  if (done) {
    if (out.json) return printJson({ campaignId, status: 'cancelled' });
    console.log(`${colour.ok('✓')} ${done}`);
    return;
  }
  const requestId = opts.requestId ?? derivedRequestId('cancel', campaignId, opts.as, opts.reason);
  const r = await sendUpdate(
    campaignId,
    cancelCampaignUpdate,
    { requestId, actor: opts.as, reason: opts.reason },
    'cancel',
    { updateId: requestId, what: 'campaign' },
  );
  if (out.json) return printJson(r);
  console.log(
    `${colour.ok('✓')} ${t(out.lang, `活动 ${campaignId} 已撤销，未完成的事项均已取消`, `campaign ${campaignId} cancelled; every open task is cancelled`)}`,
  );
}
