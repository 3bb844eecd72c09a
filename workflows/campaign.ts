// The campaign: one evaluation for one county and year. It records the definition, starts one
// indicator workflow per indicator, and runs the campaign-level clock — the phase windows and
// the daily dispatch on working days — until every indicator has closed. It imports the
// results and tells each indicator whether it must be rectified. It continues as new when its
// history grows, carrying its small state.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import {
  campaignPhaseAt,
  indicatorWorkflowId,
  meetsTriggers,
  nextDispatchAt,
  phaseBoundaries,
  type CampaignInput,
  type CampaignPhase,
  type IndicatorInput,
} from '../domain/campaign.ts';
import {
  campaignStatusQuery,
  indicatorClosedSignal,
  recordResultsUpdate,
  resultsSignal,
  type ResultsRequest,
} from '../domain/campaign-messages.ts';
import { PHASE_ZH } from '../domain/labels.ts';
import { SA } from '../domain/search-attributes.ts';
import { formatLocal } from '../domain/time.ts';

const { recordCampaign, projectCampaign, recordResults } = proxyLocalActivities<
  ReturnType<typeof createActivities>
>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { compileDispatch } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});

export async function campaignWorkflow(
  input: CampaignInput,
): Promise<{ campaignId: string; closed: string[] }> {
  const { plan } = input;
  const calendar = new BusinessCalendar(input.calendar);
  const carried = input.carried ?? {
    recorded: false,
    indicatorsStarted: false,
    closed: [],
    lastDispatchAt: null,
    results: null,
    handledRequests: [],
  };
  const closed = new Set(carried.closed);
  let lastDispatchAt = carried.lastDispatchAt;
  let results = carried.results;
  const handled = new Map(carried.handledRequests);
  let phase: CampaignPhase = campaignPhaseAt(plan.phases, Date.now());
  let version = 0;
  const codes = plan.indicators.map((i) => i.code);

  const describe = () => {
    upsertSearchAttributes([{ key: SA.phase, value: phase }]);
    setCurrentDetails(
      `${plan.name}：${PHASE_ZH[phase]}；指标 ${codes.length} 项，已结束 ${closed.size} 项` +
        (lastDispatchAt ? `；最近一次每日调度 ${formatLocal(lastDispatchAt, plan.timeZone)}` : '') +
        (results ? `；已导入评价结果 ${results.length} 项` : '') +
        '。',
    );
  };

  setHandler(indicatorClosedSignal, ({ code }) => {
    closed.add(code);
    version++;
  });
  setHandler(campaignStatusQuery, () => ({
    campaignId: plan.campaignId,
    phase,
    closedIndicators: [...closed],
    lastDispatch: lastDispatchAt ? new Date(lastDispatchAt).toISOString() : null,
    resultsImported: results !== null,
  }));

  const refuse = (message: string): never => {
    throw ApplicationFailure.nonRetryable(message, 'Refused');
  };
  setHandler(
    recordResultsUpdate,
    async (req: ResultsRequest) => {
      const prior = handled.get(req.requestId);
      if (prior) return prior;
      await recordResults({ campaignId: plan.campaignId, results: req.results, actor: req.actor });
      results = req.results;
      const rectificationStarted: string[] = [];
      await Promise.all(
        req.results.map(async (r) => {
          const rectify = meetsTriggers(plan.triggers, r, req.results.length);
          if (rectify) rectificationStarted.push(r.code);
          await getExternalWorkflowHandle(indicatorWorkflowId(plan.campaignId, r.code)).signal(
            resultsSignal,
            {
              score: r.score,
              rank: r.rank,
              rectify,
            },
          );
        }),
      );
      const outcome = {
        imported: req.results.length,
        rectificationStarted: rectificationStarted.sort(),
      };
      handled.set(req.requestId, outcome);
      version++;
      return outcome;
    },
    {
      validator: (req: ResultsRequest) => {
        if (handled.has(req?.requestId)) return;
        if (!req?.requestId) refuse('a request id is required');
        const p = input.plan.shared.roster.people.find((x) => x.id === req.actor);
        if (!p) refuse(`unknown person "${req.actor}": not on the campaign's roster`);
        const unit = input.plan.shared.roster.units.find((u) => u.id === p!.unitId);
        if (unit?.kind !== 'bureau' || !['coordinator', 'head'].includes(p!.role)) {
          refuse(`${req.actor} may not import results: the bureau's coordinators and head may`);
        }
        if (phase !== 'reporting' && phase !== 'closing')
          refuse(`results are imported during reporting; the campaign is in ${phase}`);
        if (results !== null) refuse('results were already imported for this campaign');
        const known = new Set(codes);
        const unknown = req.results.filter((r) => !known.has(r.code)).map((r) => r.code);
        if (unknown.length) refuse(`unknown indicator(s): ${unknown.join(', ')}`);
        const missing = codes.filter((c) => !req.results.some((r) => r.code === c));
        if (missing.length) refuse(`results are missing for: ${missing.join(', ')}`);
      },
    },
  );

  if (!carried.recorded) {
    await recordCampaign({
      definition: input.definition,
      calendar: input.calendar,
      plan,
      workflowId: workflowInfo().workflowId,
      startedBy: input.startedBy,
    });
    carried.recorded = true;
  }
  if (!carried.indicatorsStarted) {
    await Promise.all(
      plan.indicators.map((p) => {
        const child: IndicatorInput = {
          plan: p,
          shared: plan.shared,
          evidenceDue: plan.evidenceDue,
          campaignWorkflowId: workflowInfo().workflowId,
          rectification: plan.rectification,
        };
        return startChild('indicatorWorkflow', {
          workflowId: indicatorWorkflowId(plan.campaignId, p.code),
          args: [child],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `指标：${p.name}（${p.code}），牵头单位 ${p.leadUnit}`,
          typedSearchAttributes: [
            { key: SA.campaignId, value: plan.campaignId },
            { key: SA.indicator, value: p.code },
            { key: SA.unit, value: p.leadUnit },
            { key: SA.kind, value: 'indicator' },
            { key: SA.phase, value: 'scheduled' },
          ],
        });
      }),
    );
    carried.indicatorsStarted = true;
  }
  await projectCampaign({ campaignId: plan.campaignId, phase, status: 'running' });
  describe();

  const finished = () => closed.size === codes.length && Date.now() >= plan.phases.reporting.end;

  let cycles = 0;
  while (!finished()) {
    cycles++;
    const now = Date.now();
    const nextPhase = phaseBoundaries(plan.phases).find((b) => b > now) ?? null;
    const nextDispatch = nextDispatchAt(
      calendar,
      plan.phases,
      plan.dispatchAt,
      Math.max(now, lastDispatchAt ?? 0),
    );
    const next = [nextPhase, nextDispatch]
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b)[0];
    const seen = version;
    if (next === undefined) await condition(() => version !== seen || finished());
    else await condition(() => version !== seen || finished(), Math.max(1, next - Date.now()));

    const at = Date.now();
    const newPhase = campaignPhaseAt(plan.phases, at);
    if (newPhase !== phase) {
      phase = newPhase;
      await projectCampaign({ campaignId: plan.campaignId, phase, status: 'running' });
    }
    if (nextDispatch !== null && at >= nextDispatch) {
      const since = lastDispatchAt ?? plan.phases.training.start;
      lastDispatchAt = nextDispatch;
      await compileDispatch({
        campaignId: plan.campaignId,
        at: nextDispatch,
        since,
        recipients: plan.shared.roster.people
          .filter((p) => plan.dispatchRecipients.includes(p.unitId) && p.role !== 'staff')
          .map((p) => p.id),
        channels: plan.shared.channels,
      });
    }
    describe();
    const cycleLimit = input.continueAsNewAfter !== undefined && cycles >= input.continueAsNewAfter;
    if ((workflowInfo().continueAsNewSuggested || cycleLimit) && !finished()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof campaignWorkflow>({
        ...input,
        carried: {
          ...carried,
          closed: [...closed],
          lastDispatchAt,
          results,
          handledRequests: [...handled.entries()].slice(-50),
        },
      });
    }
  }
  phase = 'closed';
  await projectCampaign({ campaignId: plan.campaignId, phase, status: 'completed' });
  describe();
  await condition(allHandlersFinished);
  return { campaignId: plan.campaignId, closed: [...closed] };
}
