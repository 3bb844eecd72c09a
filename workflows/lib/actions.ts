// One shape for every action a person takes on a workflow (submit, approve, verify, move a
// phase, add a measure, …), whichever of the four workflows it is.
//
// The validator checks the request's shape (the senders' schema, domain/payloads.ts), answers a
// request already handled, and runs the action's rules from domain/ (a Refusal there becomes
// the update's refusal). The handler answers a repeated request with its first answer, else
// applies the action to the workflow's state and returns the answer — without awaiting
// anything first, so that the update is accepted, applied and answered in one workflow task.
// What the action must write to PostgreSQL is scheduled as an ordinary activity in that same
// workflow task (workflows/lib/projections.ts): the server records the acceptance and the
// activity together, so a worker killed at any moment leaves either nothing or an accepted
// action whose projection is retried. An action that truly needs I/O before it can decide (a
// results import that reads the database) awaits inside `apply` and checks again what the
// await may have changed.
import { ApplicationFailure, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { createActivities } from '../../activities/index.ts';
import { payloadProblem } from '../../domain/payloads.ts';
import { Refusal, refusalFailureOptions } from '../../domain/refusal.ts';
import type { ActionRequests } from './requests.ts';

const { acknowledgeUpdate } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

/** Refuses a request whose shape is wrong (domain/payloads.ts), as an ApplicationFailure. */
export function checkShape(update: string, request: unknown): void {
  const p = payloadProblem(update, request);
  if (p) throw ApplicationFailure.create(refusalFailureOptions(p));
}

/** Runs a rule check; its Refusal becomes the ApplicationFailure that refuses the update. */
export function refusable<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof Refusal) throw ApplicationFailure.create(refusalFailureOptions(e));
    throw e;
  }
}

/** Refuses with the two texts of a refusal. */
export function refuse(en: string, zh?: string): never {
  throw ApplicationFailure.create(refusalFailureOptions({ en, zh: zh ?? en }));
}

export interface Action<Req extends { requestId: string }, Res> {
  /** The key of its requests in the workflow's memory of handled requests. */
  name: string;
  /** The rules (domain/), against the state as it is: throws a Refusal to refuse. */
  check: (req: Req) => void;
  /**
   * Changes the state and returns the answer. An action that awaits calls `claim` with its
   * answer before its first await, so that the same request arriving meanwhile is answered
   * with it instead of being applied again.
   */
  apply: (req: Req, claim: (res: Res) => void) => Res | Promise<Res>;
  /**
   * The fenced path (the campaign's, indicator's and rectification's actions, and tasks started
   * before the one-task path), whose projections are local activities that run inside the
   * workflow task: an update is accepted only when that task completes, so a worker killed
   * while a projection ran left PostgreSQL holding an action the server had dropped. The
   * handler therefore first schedules an empty ordinary activity (`acknowledgeUpdate`), which
   * ends the workflow task and makes the acceptance durable, then checks the rules again (the
   * state may have moved while it waited) and only then applies the action (patched
   * 'accepted-before-projection': executions from before keep their histories).
   */
  fenced?: boolean;
  /**
   * Executions that began before the one-task path: something to wait for before anything
   * else, or undefined when there is nothing (the handler then runs on without yielding).
   */
  settle?: () => Promise<unknown> | undefined;
}

/**
 * Registers an action as an update: shape check, request-id memory, the rules as validator,
 * refusals mapped for people, the state changed and answered in the handler.
 */
export function registerAction<Req extends { requestId: string }, Res>(
  def: UpdateDefinition<Res, [Req]>,
  requests: ActionRequests,
  action: Action<Req, Res>,
): void {
  const validator = (req: Req): void => {
    checkShape(def.name, req);
    if (requests.has(action.name, req?.requestId)) return;
    if (!req?.requestId) refuse('a request id is required', '缺少请求编号');
    refusable(() => action.check(req));
  };
  const handle = (req: Req): Res | Promise<Res> => {
    const prior = requests.get<Res>(action.name, req.requestId);
    if (prior !== undefined) return prior;
    const remember = (res: Res): Res => {
      requests.set(action.name, req.requestId, res);
      return res;
    };
    const res = action.apply(req, remember);
    return res instanceof Promise ? res.then(remember) : remember(res);
  };
  const fenced = async (req: Req): Promise<Res> => {
    if (patched('accepted-before-projection')) {
      await acknowledgeUpdate();
      validator(req);
    }
    return handle(req);
  };
  const run = action.fenced ? fenced : handle;
  setHandler(
    def,
    (req: Req): Res | Promise<Res> => {
      const waiting = action.settle?.();
      return waiting ? waiting.then(() => run(req)) : run(req);
    },
    { validator },
  );
}
