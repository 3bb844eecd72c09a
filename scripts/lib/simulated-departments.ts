// Simulated departments for the demo: people who do their work through the command line, the
// way real clerks, coordinators and evaluators would. Most are on time; 住建局 (zjj) lets its
// tasks run late until the ladder reaches its head; the bureau returns one questionnaire to
// unify the filling standard (统一填报尺度) and rejects one rectification measure once. The
// evaluator imports the enterprise list, draws the sample, asks for evidence and verifies it;
// the bureau imports results that send 开办企业 into rectification. With `tour` (the demo), the
// later commands are walked through once as well (scripts/lib/demo-tour.ts): business records
// sampled and verified, the questionnaire followed, a site visit, a highlight returned once and
// selected, a typical case, publicity, an assessment adjustment.
//
// It reads the campaign's state from PostgreSQL (what `campaign tasks` reads) and acts only
// through `bin/campaign.mjs`, so every step it takes is a command a person could type.
//
// With `stateDriven` (the fault suite), nothing waits on the clock: people act as soon as a task
// is open (住建局 still only once chased to its head), the bureau closes each phase
// (`campaign phase … close`) once its work is done, and a command that fails for a reason other
// than a refusal (a database or server away, a worker killed) is tried again.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import type { CampaignDefinition } from '../../domain/definition.ts';
import type { QuestionnaireField } from '../../domain/definition.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import { formatIsoOffset, localDateOf } from '../../domain/time.ts';
import { DemoTour } from './demo-tour.ts';
import { runCampaignCli, type CliRun } from './run-node.ts';

const BUREAU = 'spj-coord';
const LEADER = 'xzf-leader';
const EVALUATOR = 'dsf-eval';
const LATE_UNIT = 'zjj';

interface TaskRow {
  task_id: string;
  kind: string;
  indicator: string | null;
  unit_id: string;
  assignee: string;
  state: string;
  due_at: Date;
  created_at: Date;
  escalation_level: number;
  last_return_reason: string | null;
}

export interface SimulationOptions {
  campaignId: string;
  definition: CampaignDefinition;
  pool: pg.Pool;
  env?: NodeJS.ProcessEnv;
  /** Called with each line of the simulation's log (commands and what came of them). */
  log: (line: string) => void;
  /** Driven by the campaign's state alone, phases closed by the bureau (see above). */
  stateDriven?: boolean;
  /** Called when a changing command starts and when it has ended (the fault suite's timing). */
  onCommand?: (args: string[], phase: 'start' | 'end') => void;
  /**
   * State-driven: give up when nothing has moved for this long (ms) — no command accepted and
   * the open tasks unchanged — and say what was left (`stalled`). A liveness bound for the
   * fault suite, far above any fault it causes; the default is ten minutes.
   */
  stallMs?: number;
  /** The demo's walk through records, questionnaire, visits, highlights and assessment. */
  tour?: boolean;
}

export class SimulatedDepartments {
  private readonly done = new Set<string>();
  private readonly returned = new Set<string>();
  /** Refused submissions per task: a person tries again a little later, three times at most. */
  private readonly refusals = new Map<string, { count: number; at: number }>();
  /** State-driven: how often each once-only action has been tried. */
  private readonly tries = new Map<string, number>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'campaign-demo-'));
  private stopped = false;
  /** Commands run and refused, for the summary at the end. */
  readonly counts = { commands: 0, refused: 0 };
  /** State-driven: why the run gave up, if it did (see `stallMs`). */
  stalled: string | undefined;
  /** When a command was last accepted, or the open tasks last changed; and what they were. */
  private movedAt = Date.now();
  private lastOpen = '';
  private readonly tour: DemoTour | undefined;

  constructor(private readonly o: SimulationOptions) {
    this.tour = o.tour
      ? new DemoTour({
          campaignId: o.campaignId,
          definition: o.definition,
          pool: o.pool,
          dir: this.dir,
          cli: (who, args, opts) => this.cli(who, args, opts),
          who: (id) => this.who(id),
          log: (line) => o.log(line),
        })
      : undefined;
  }

  /** A person as people know them: 刘填报员（县市场监督管理局）. */
  private who(personId: string): string {
    for (const u of this.o.definition.units) {
      const p = u.people.find((x) => x.id === personId);
      if (p) return `${p.name}（${u.name}）`;
    }
    return personId;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Acts until the campaign has closed or `stop()` is called; one command at a time. */
  async run(): Promise<void> {
    while (!this.stopped) {
      let acted = false;
      try {
        const phase = await this.phase();
        // State-driven, the late unit's work still open after the close is done too.
        if (phase === 'closed' && !(this.o.stateDriven && (await this.anyOpen()))) return;
        acted =
          (await this.phaseWork(phase)) ||
          (this.tour !== undefined &&
            (await this.tour.act(phase, {
              sampled: this.done.has('sample'),
              results: this.done.has('results'),
            }))) ||
          (await this.taskWork()) ||
          (this.o.stateDriven === true && (await this.closePhase(phase)));
        if (this.o.stateDriven && (await this.stalledNow(phase))) return;
      } catch (e) {
        // The database away for a while: look again shortly.
        if (!this.o.stateDriven) throw e;
        this.o.log(`… ${(e as Error).message.split('\n')[0]}; trying again`);
      }
      if (!acted) await new Promise((r) => setTimeout(r, this.o.stateDriven ? 500 : 1000));
    }
  }

  /** State-driven: true (and `stalled` set) once nothing has moved for `stallMs`. */
  private async stalledNow(phase: string): Promise<boolean> {
    const r = await this.o.pool.query<TaskRow>(
      `SELECT task_id, state, escalation_level FROM tasks
        WHERE campaign_id = $1 AND state IN ('open', 'returned', 'submitted') ORDER BY task_id`,
      [this.o.campaignId],
    );
    const open = r.rows.map((t) => `${t.task_id} ${t.state} L${t.escalation_level}`).join('; ');
    const now = Date.now();
    if (`${phase}|${open}` !== this.lastOpen) {
      this.lastOpen = `${phase}|${open}`;
      this.movedAt = now;
    }
    if (now - this.movedAt < (this.o.stallMs ?? 600_000)) return false;
    this.stalled =
      `nothing moved for ${Math.round((now - this.movedAt) / 1000)} s in phase ${phase}; ` +
      `open tasks: ${open || 'none'}; once-only work done: ${[...this.done].join(', ') || 'none'}; ` +
      `tries: ${JSON.stringify(Object.fromEntries(this.tries))}`;
    this.o.log(`stalled: ${this.stalled}`);
    return true;
  }

  private async anyOpen(): Promise<boolean> {
    const r = await this.o.pool.query(
      `SELECT 1 FROM tasks WHERE campaign_id = $1 AND state IN ('open', 'returned', 'submitted') LIMIT 1`,
      [this.o.campaignId],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** Not an answer from the campaign: the command did not get through (tried again). */
  private static unreached(r: CliRun): boolean {
    if (r.code === 0) return false;
    const text = `${r.stdout}\n${r.stderr}`;
    return (
      r.code !== 1 ||
      /not reachable|no worker answered|ECONNREFUSED|unavailable|deadline|timed? ?out|terminating connection|Connection terminated|the database system|connect/i.test(
        text,
      )
    );
  }

  /** How many tasks training (the team leader and fillers) or data entry opens. */
  private expectedTasks(phase: string): number {
    const inds = this.o.definition.indicators;
    if (phase === 'training')
      return inds.reduce((n, i) => n + new Set([i.teamLeader, ...i.fillers]).size, 0);
    if (phase === 'dataEntry')
      return inds.reduce((n, i) => n + 1 + (i.cooperatingUnits?.length ?? 0), 0);
    return 0;
  }

  /** State-driven: the bureau closes the phase under way once its work is done. */
  private async closePhase(phase: string): Promise<boolean> {
    const order = ['training', 'dataEntry', 'verification', 'reporting'];
    if (!order.includes(phase)) return false;
    const id = this.o.campaignId;
    const need: Record<string, string[]> = {
      verification: ['enterprises', 'sample', 'evidence', 'verify'],
      reporting: ['results'],
    };
    if (!(need[phase] ?? []).every((k) => this.done.has(k))) return false;
    // Nothing anyone would act on now; the late unit's tasks become due when the phase closes.
    const open = await this.o.pool.query<TaskRow>(
      `SELECT task_id, unit_id, kind, state, escalation_level FROM tasks
        WHERE campaign_id = $1 AND state IN ('open', 'returned', 'submitted')`,
      [id],
    );
    const waiting = (t: TaskRow) =>
      t.unit_id === LATE_UNIT && t.kind !== 'measure' && t.state !== 'submitted';
    if (!open.rows.every(waiting)) return false;
    // Every task the phase opens is there: they are projected one by one, some after others
    // have been done already.
    const expected = this.expectedTasks(phase);
    if (expected) {
      const kinds = phase === 'training' ? ['training'] : ['questionnaire', 'contribution'];
      const r = await this.o.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1 AND kind = ANY($2)',
        [id, kinds],
      );
      if ((r.rows[0]?.n ?? 0) < expected) return false;
    }
    if (phase === 'reporting') {
      // The rectification the results started runs to its end inside the phase.
      const r = await this.o.pool.query<{ open: number; all: number }>(
        `SELECT count(*) FILTER (WHERE closed_at IS NULL)::int AS open, count(*)::int AS all
           FROM rectifications WHERE campaign_id = $1`,
        [id],
      );
      if (!r.rows[0] || r.rows[0].all === 0 || r.rows[0].open > 0) return false;
    }
    this.o.log(
      `the bureau sees ${phase} done; still open: ${open.rows.map((t) => `${t.task_id} ${t.state}`).join(', ') || 'nothing'}`,
    );
    const key = `close-${phase}`;
    const tries = (this.tries.get(key) ?? 0) + 1;
    this.tries.set(key, tries);
    if (tries > 30) return false;
    await this.cli(this.who(BUREAU), [
      'phase',
      id,
      'close',
      phase,
      '--as',
      BUREAU,
      '--reason',
      '本阶段工作已完成',
    ]);
    return true;
  }

  private async phase(): Promise<string> {
    const r = await this.o.pool.query<{ phase: string }>(
      'SELECT phase FROM campaigns WHERE campaign_id = $1',
      [this.o.campaignId],
    );
    return r.rows[0]?.phase ?? 'scheduled';
  }

  /** Runs a command as `who`; `human`: without --json, its own output printed under it. */
  private async cli(who: string, args: string[], opts: { human?: boolean } = {}): Promise<CliRun> {
    this.counts.commands++;
    const shown = args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
    this.o.onCommand?.(args, 'start');
    let r: CliRun;
    try {
      r = await runCampaignCli(opts.human ? args : [...args, '--json'], this.o.env);
    } finally {
      this.o.onCommand?.(args, 'end');
    }
    if (this.stopped) return r; // interrupted by Ctrl-C: not a refusal
    if (r.code === 0) this.movedAt = Date.now();
    if (r.code !== 0) {
      this.counts.refused++;
      const why = (() => {
        try {
          return (JSON.parse(r.stdout) as { error?: string }).error ?? r.stderr.trim();
        } catch {
          return r.stderr.trim();
        }
      })();
      this.o.log(`✗ ${who}: campaign ${shown}\n    ${why.split('\n')[0]}`);
    } else {
      this.o.log(`✓ ${who}: campaign ${shown}`);
      if (opts.human)
        for (const line of r.stdout.trimEnd().split('\n')) if (line) this.o.log(`    ${line}`);
    }
    return r;
  }

  /** Once-per-campaign work of the bureau and the evaluator, by phase. */
  private async phaseWork(phase: string): Promise<boolean> {
    const id = this.o.campaignId;
    const importFile = async (what: 'enterprises' | 'results', csv: string) => {
      const file = join(this.dir, `${what}.csv`);
      writeFileSync(file, csv);
      return this.cli(this.who(BUREAU), [what, 'import', id, '--file', file, '--as', BUREAU]);
    };
    const once = async (key: string, fn: () => Promise<CliRun | unknown>) => {
      if (this.done.has(key)) return false;
      if (!this.o.stateDriven) {
        this.done.add(key);
        await fn();
        return true;
      }
      // State-driven: done once the campaign answered; tried again when it was not reached.
      const tries = (this.tries.get(key) ?? 0) + 1;
      this.tries.set(key, tries);
      const r = (await fn()) as CliRun;
      // Refused because a workflow has not caught up with the phase yet (an indicator still in
      // data entry while the campaign is in verification, say, after a server restart): the
      // person tries again shortly, as for a command that did not get through.
      const behind = r.code !== 0 && /现处于|is in (?:scheduled|training|dataEntry)\b/.test(`${r.stdout}\n${r.stderr}`); // prettier-ignore
      if ((!SimulatedDepartments.unreached(r) && !behind) || tries >= 30) this.done.add(key);
      else if (behind) await new Promise((res) => setTimeout(res, 1000));
      return true;
    };
    if (phase === 'verification' || phase === 'reporting' || phase === 'closing') {
      if (
        await once('enterprises', async () => {
          if (this.tour) return importFile('enterprises', this.tour.enterpriseCsv());
          const lines = ['统一社会信用代码,企业名称,行业,乡镇'];
          for (let i = 0; i < 120; i++)
            lines.push(
              `${withCreditCheck(`913400000000${String(i).padStart(5, '0')}`)},演示企业${i}号有限公司,${i % 3 ? '制造业' : '服务业'},城关镇`,
            );
          return importFile('enterprises', `${lines.join('\n')}\n`);
        })
      )
        return true;
      if (
        await once('sample', () =>
          this.cli(this.who(EVALUATOR), ['sample', id, '--as', EVALUATOR, '--seed', `${id}-seed`]),
        )
      )
        return true;
      if (
        await once('evidence', () =>
          this.cli(this.who(EVALUATOR), [
            'evidence',
            'request',
            id,
            'kbqy',
            '--unit',
            'scjgj',
            '--what',
            '抽样企业开办办件记录',
            '--as',
            EVALUATOR,
          ]),
        )
      )
        return true;
    }
    // With the tour, the results follow the evaluator's verification of what it sampled.
    if ((phase === 'reporting' || phase === 'closing') && (this.tour?.verified ?? true)) {
      if (
        await once('results', async () => {
          return importFile(
            'results',
            '指标代码,得分,排名\nkbqy,72,4\nns,91,1\njzxk,86,2\nscjg,83,3\n',
          );
        })
      )
        return true;
    }
    return false;
  }

  /** The next task someone would act on now, if any; acts on it. */
  private async taskWork(): Promise<boolean> {
    const r = await this.o.pool.query<TaskRow>(
      `SELECT task_id, kind, indicator, unit_id, assignee, state, due_at, created_at,
              escalation_level, last_return_reason
         FROM tasks WHERE campaign_id = $1 AND state IN ('open', 'returned', 'submitted')
        ORDER BY due_at, task_id`,
      [this.o.campaignId],
    );
    const now = Date.now();
    for (const t of r.rows) {
      if (t.state === 'submitted') {
        await this.review(t);
        return true;
      }
      const refused = this.refusals.get(t.task_id);
      const patience = this.o.stateDriven ? { count: 200, ms: 1000 } : { count: 3, ms: 5000 };
      if (refused && (refused.count >= patience.count || now - refused.at < patience.ms)) continue;
      if (this.ready(t, now)) {
        await this.submit(t);
        return true;
      }
    }
    // Evidence delivered: the evaluator verifies it, once.
    const evidence = await this.o.pool.query(
      `SELECT 1 FROM tasks WHERE campaign_id = $1 AND kind = 'evidence' AND state = 'done'`,
      [this.o.campaignId],
    );
    if (evidence.rowCount && !this.done.has('verify')) {
      const tries = (this.tries.get('verify') ?? 0) + 1;
      this.tries.set('verify', tries);
      const r = await this.cli(this.who(EVALUATOR), [
        'verify',
        this.o.campaignId,
        'kbqy',
        '--item',
        '抽样企业开办办件记录',
        '--outcome',
        'confirmed',
        '--note',
        '与填报数据一致',
        '--as',
        EVALUATOR,
      ]);
      if (!this.o.stateDriven || !SimulatedDepartments.unreached(r) || tries >= 30)
        this.done.add('verify');
      return true;
    }
    return false;
  }

  /** On time: a quarter of the way to the deadline. The late unit: once its head is chased. */
  private ready(t: TaskRow, now: number): boolean {
    if (t.unit_id === LATE_UNIT && t.kind !== 'measure') return t.escalation_level >= 2;
    if (this.o.stateDriven) return true;
    const span = t.due_at.getTime() - t.created_at.getTime();
    return now >= t.created_at.getTime() + Math.max(3000, span / 4);
  }

  private async submit(t: TaskRow): Promise<void> {
    const who = `${this.who(t.assignee)}${t.escalation_level ? ` [已督办 ${t.escalation_level} 级]` : ''}`;
    const proposal = PROPOSALS[t.kind];
    const args = proposal
      ? [
          'highlight',
          'propose',
          t.task_id,
          '--as',
          t.assignee,
          '--title',
          proposal.title,
          '--description',
          // Proposed again after a return: with the figures asked for.
          t.last_return_reason
            ? `${proposal.description}${proposal.figures}`
            : proposal.description,
          '--replicable',
          'yes',
          '--evidence',
          `https://oa.example.gov.cn/files/${t.task_id.replace(/\//g, '-')}.pdf`,
        ]
      : ['task', 'submit', t.task_id, '--as', t.assignee];
    const data = proposal ? undefined : this.dataFor(t);
    if (data) {
      const file = join(this.dir, `${t.task_id.replace(/\//g, '_')}.json`);
      writeFileSync(file, JSON.stringify(data));
      args.push('--data', file);
    }
    if (proposal) args.push('--note', '请审核');
    else if (t.kind === 'evidence' || t.kind === 'measure' || t.kind === 'questionnaire')
      args.push(
        '--evidence',
        `https://oa.example.gov.cn/files/${t.task_id.replace(/\//g, '-')}.pdf`,
      );
    if (!proposal) args.push('--note', NOTES[t.kind] ?? '已办理');
    const r = await this.cli(who, args);
    if (r.code !== 0) {
      const count = (this.refusals.get(t.task_id)?.count ?? 0) + 1;
      this.refusals.set(t.task_id, { count, at: Date.now() });
    }
  }

  private async review(t: TaskRow): Promise<void> {
    const reviewer = t.unit_id === 'spj' ? LEADER : BUREAU;
    const firstTime = !this.returned.has(t.task_id) && t.last_return_reason === null;
    const returnOnce =
      (t.kind === 'questionnaire' && t.indicator === 'kbqy') ||
      (t.kind === 'measure' && t.task_id.endsWith('/m1')) ||
      t.kind === 'highlight';
    if (PROPOSALS[t.kind]) {
      // A highlight or typical case: the bureau selects it (入选) or returns it for rework.
      const note = t.kind === 'case' ? '入选本年度典型案例' : '入选本年度改革亮点';
      const args =
        returnOnce && firstTime
          ? [
              'return',
              t.task_id,
              '--as',
              BUREAU,
              '--reason',
              '请补充量化成效：全年办件量、压缩的时限',
            ]
          : ['select', t.task_id, '--as', BUREAU, '--note', note];
      const r = await this.cli(this.who(BUREAU), ['highlight', ...args]);
      if (returnOnce && firstTime && (!this.o.stateDriven || !SimulatedDepartments.unreached(r)))
        this.returned.add(t.task_id);
      return;
    }
    if (returnOnce && firstTime) {
      const reason =
        t.kind === 'measure'
          ? '电子签名覆盖率不足，请补充后重新提交'
          : '统一填报尺度：网办率请按全程网办口径填报';
      const r = await this.cli(this.who(BUREAU), [
        'task',
        'return',
        t.task_id,
        '--as',
        reviewer,
        '--reason',
        reason,
      ]);
      if (!this.o.stateDriven || !SimulatedDepartments.unreached(r)) this.returned.add(t.task_id);
      return;
    }
    await this.cli(this.who(reviewer), [
      'task',
      'approve',
      t.task_id,
      '--as',
      reviewer,
      '--note',
      '同意',
    ]);
  }

  private dataFor(t: TaskRow): unknown {
    const def = this.o.definition;
    if (t.kind === 'questionnaire') {
      const ind = def.indicators.find((i) => i.code === t.indicator);
      const tz = def.campaign.timeZone;
      return ind
        ? Object.fromEntries(ind.fields.map((f) => [f.key, sampleValue(f, tz)]))
        : undefined;
    }
    if (t.kind === 'rectify-problems')
      return {
        problems: [
          { finding: '评价报告第3条', description: '企业开办仍需线下提交纸质材料' },
          { finding: '评价报告第5条', description: '银行开户与社保登记未并联办理' },
        ],
      };
    if (t.kind === 'rectify-causes')
      return {
        causes: [
          { problem: 1, cause: '电子营业执照和电子签名未全面推行' },
          { problem: 2, cause: '部门间数据未共享' },
        ],
      };
    if (t.kind === 'rectify-gaps')
      return {
        benchmark: '合肥市',
        gaps: [
          { problem: 1, gap: '合肥市企业开办全程网办率98%' },
          { problem: 2, gap: '合肥市开办时间0.5个工作日' },
        ],
      };
    if (t.kind === 'rectify-measures') {
      const tz = def.campaign.timeZone;
      // Deadlines a few minutes out on a demonstration's clock, given to the minute.
      const due = (minutes: number) =>
        formatIsoOffset(Date.now() + minutes * (this.o.stateDriven ? 3_600_000 : 60_000), tz).slice(
          0,
          16,
        );
      return {
        measures: [
          {
            problem: 1,
            measure: '推行电子营业执照和电子签名',
            unit: 'scjgj',
            person: 'scjgj-staff1',
            due: due(3),
          },
          {
            problem: 2,
            measure: '开户、社保登记并联办理',
            unit: 'swj',
            person: 'swj-staff1',
            due: due(4),
          },
        ],
      };
    }
    return undefined;
  }
}

const NOTES: Record<string, string> = {
  training: '已参加填报培训',
  questionnaire: '已按口径填报',
  contribution: '已提供本单位数据',
  evidence: '已上传印证资料',
  'rectify-problems': '问题清单已列出',
  'rectify-causes': '原因已逐条分析',
  'rectify-gaps': '已对标合肥市',
  'rectify-measures': '整改措施已制定',
  measure: '整改措施已落实',
  'enterprise-assist': '已逐户电话联系，协助企业完成问卷填报',
};

/** What a department proposes when the bureau asks for a highlight or a typical case. */
const PROPOSALS: Record<string, { title: string; description: string; figures: string }> = {
  highlight: {
    title: '企业开办“一网通办、一日办结”',
    description: '设立登记、印章刻制、发票申领、社保登记合为一个环节，全程网上办理',
    figures: '；2026 年办件 1236 件，平均 0.5 个工作日办结，较上年压缩 2.5 个工作日',
  },
  case: {
    title: '跨部门联合抽查“进一次门、查多项事”',
    description: '市场监管、税务、住建联合制定抽查清单，一次检查覆盖多个事项',
    figures: '',
  },
};

function sampleValue(f: QuestionnaireField, timeZone: string): unknown {
  switch (f.type) {
    case 'integer':
      return Math.max(f.min ?? 0, 4);
    case 'number':
      return Math.max(f.min ?? 0, 1.5);
    case 'percent':
      return Math.min(f.max ?? 100, 96);
    case 'boolean':
      return true;
    case 'date':
      return localDateOf(Date.now(), timeZone);
    case 'enum':
      return f.options?.[0];
    default:
      return '按要求填报';
  }
}
