// Every message of the workflows — updates, queries and signals of the campaign, indicator,
// rectification and task workflows — in one module, shared by the workflows, the CLI and the
// portal. Request and result types live beside the rules that decide them (domain/task.ts,
// domain/phase-control.ts, …); this module only names the messages, so that nothing in domain/
// needs to import it and no import cycle runs through it.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CampaignPhase, IndicatorPhase, IndicatorState } from './campaign.ts';
import type { PhaseName } from './definition.ts';
import type { ResultRow } from './imports.ts';
import type { PhaseAction, PhaseMoveRequest } from './phase-control.ts';
import type { RaiseTaskRequest, RaiseTaskResult } from './raise-task.ts';
import type {
  ActionResult,
  ApproveRequest,
  CancelRequest,
  CompletionRequirements,
  ExtendRequest,
  ReassignRequest,
  ReturnRequest,
  SubmitRequest,
  TaskControl,
  TaskOutcome,
  TaskView,
} from './task.ts';

export interface EvidenceRequest {
  requestId: string;
  actor: string;
  unit: string;
  what: string;
}
export interface VerifyRequest {
  requestId: string;
  actor: string;
  item: string;
  outcome: 'confirmed' | 'discrepant';
  note?: string | undefined;
}
export interface VerifyResult {
  indicator: string;
  item: string;
  outcome: 'confirmed' | 'discrepant';
  flagged: boolean;
}
export interface IndicatorResult {
  score: number;
  rank: number;
  /** Why the indicator must be rectified, or null. */
  rectify: string | null;
}
export interface IndicatorStatus {
  code: string;
  phase: IndicatorPhase;
  state: IndicatorState;
  flagged: boolean;
  tasks: string[];
  openTasks: string[];
  result: IndicatorResult | null;
}
export interface ResultsRequest {
  requestId: string;
  actor: string;
  results: ResultRow[];
}
export interface ResultsOutcome {
  imported: number;
  rectificationStarted: string[];
}
export interface CampaignStatus {
  campaignId: string;
  phase: CampaignPhase;
  closedIndicators: string[];
  lastDispatch: string | null;
  resultsImported: boolean;
  /** The phase windows in force (absent from campaigns started before they could move). */
  windows?: Record<PhaseName, { start: number; end: number }>;
  cancelled?: { actor: string; reason: string; at: number } | null;
}

export const requestEvidenceUpdate = defineUpdate<
  { taskId: string; due: number },
  [EvidenceRequest]
>('requestEvidence');
export const verifyUpdate = defineUpdate<VerifyResult, [VerifyRequest]>('verify');
export const resultsSignal = defineSignal<[IndicatorResult]>('results');
export const indicatorStatusQuery = defineQuery<IndicatorStatus>('indicatorStatus');

export const recordResultsUpdate = defineUpdate<ResultsOutcome, [ResultsRequest]>('recordResults');
export const indicatorClosedSignal = defineSignal<[{ code: string }]>('indicatorClosed');
export const campaignStatusQuery = defineQuery<CampaignStatus>('campaignStatus');

export interface AddMeasureRequest {
  requestId: string;
  actor: string;
  problem: number;
  measure: string;
  unit: string;
  person: string;
  due: string;
  reason: string;
}
export interface StartRectificationRequest {
  requestId: string;
  actor: string;
  reason: string;
}
export interface RectificationStatus {
  state: 'steps' | 'measures' | 'closed' | 'cancelled';
  step: string | null;
  measures: { no: number; taskId: string; closed: boolean }[];
}

export const addMeasureUpdate = defineUpdate<{ no: number; taskId: string }, [AddMeasureRequest]>(
  'addMeasure',
);
export const startRectificationUpdate = defineUpdate<
  { workflowId: string },
  [StartRectificationRequest]
>('startRectification');
export const rectificationClosedSignal =
  defineSignal<[{ code: string; state: 'closed' | 'cancelled' }]>('rectificationClosed');
export const rectificationStatusQuery = defineQuery<RectificationStatus>('rectificationStatus');

// ---- the bureau steers the campaign: a phase moved, the campaign cancelled ----
export interface PhaseMoveResult {
  campaignId: string;
  phase: PhaseName;
  action: PhaseAction;
  /** The phase's window after the move (epoch milliseconds). */
  start: number;
  end: number;
  /** The campaign's phase after the move. */
  campaignPhase: CampaignPhase;
}
export interface CancelCampaignRequest {
  requestId: string;
  actor: string;
  reason: string;
}
export interface CancelCampaignResult {
  campaignId: string;
  status: 'cancelled';
}
/** What the campaign tells an indicator when a phase moved. */
export interface WindowsMoved {
  windows: {
    training: { start: number; end: number };
    dataEntry: { start: number; end: number };
    verification: { start: number; end: number };
    reporting: { start: number; end: number };
  };
  move: { phase: string; action: string; actor: string; reason: string; at: number };
}
export interface CampaignCancelled {
  actor: string;
  reason: string;
}

export const movePhaseUpdate = defineUpdate<PhaseMoveResult, [PhaseMoveRequest]>('movePhase');
export const cancelCampaignUpdate = defineUpdate<CancelCampaignResult, [CancelCampaignRequest]>(
  'cancelCampaign',
);
export const windowsMovedSignal = defineSignal<[WindowsMoved]>('windowsMoved');
export const campaignCancelledSignal = defineSignal<[CampaignCancelled]>('campaignCancelled');
export const cancelRectificationSignal = defineSignal<[CampaignCancelled]>('cancelRectification');

// ---- signals between the campaign's workflows, confirmed by their sender ----
/** Per signal and recipient, the last payloads a workflow signalled (workflows/lib/signals.ts). */
export type SentSignalsRecord = Record<string, unknown[]>;
export const sentSignalsQuery = defineQuery<unknown[], [{ signal: string; to: string }]>(
  'sentSignals',
);
/** A signal a workflow dropped because the one workflow it can come from did not send it. */
export interface DroppedSignal {
  signal: string;
  /** The workflow it could have come from (null: none could send it). */
  sender: string | null;
  at: number;
}
export const droppedSignalsQuery = defineQuery<DroppedSignal[]>('droppedSignals');

// ---- the bureau raises a task outside the plan (督办事项) ----
export const raiseTaskUpdate = defineUpdate<RaiseTaskResult, [RaiseTaskRequest]>('raiseTask');

/** The bureau rectifies an indicator that has already closed (the campaign decides). */
export interface RectifyClosedRequest extends StartRectificationRequest {
  code: string;
}
export const rectifyClosedUpdate = defineUpdate<{ workflowId: string }, [RectifyClosedRequest]>(
  'rectifyClosed',
);

// ---- the task workflow ----

export const submitUpdate = defineUpdate<ActionResult, [SubmitRequest]>('submit');
export const approveUpdate = defineUpdate<ActionResult, [ApproveRequest]>('approve');
export const returnUpdate = defineUpdate<ActionResult, [ReturnRequest]>('return');
export const extendUpdate = defineUpdate<ActionResult, [ExtendRequest]>('extend');
export const reassignUpdate = defineUpdate<ActionResult, [ReassignRequest]>('reassign');
export const cancelUpdate = defineUpdate<ActionResult, [CancelRequest]>('cancel');
export const taskViewQuery = defineQuery<TaskView>('view');
/** Sent by a finished task to its parent workflow (also after the parent continued as new). */
export const taskFinishedSignal = defineSignal<[TaskOutcome]>('taskFinished');
export const requirementsQuery = defineQuery<CompletionRequirements>('requirements');

export const taskControlSignal = defineSignal<[TaskControl]>('control');

/** A projection to PostgreSQL that the database refused for good (bad data, a constraint). */
export interface StuckProjection {
  /** What it would have written, e.g. "task event 3 (submitted)". */
  what: string;
  /** The database's reason. */
  message: string;
  since: number;
}
/** The projections a workflow holds back because the database refused them. */
export const stuckProjectionsQuery = defineQuery<StuckProjection[]>('stuckProjections');
/**
 * Tries the refused projections again, once their cause is fixed (`campaign doctor --retry`).
 * Anyone may send it: all it does is run idempotent projections of the workflow's own state.
 */
export const retryProjectionsSignal = defineSignal('retryProjections');
