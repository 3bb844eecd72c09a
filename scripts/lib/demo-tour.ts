// The demo's once-only walk through the evaluator's and the bureau's later commands, acted by the
// simulated people at the point of the campaign where a person would act (read from PostgreSQL,
// never from the clock):
// - training: the bureau asks 市场监管局 for a highlight (亮点) and a typical case (典型案例), and
//   a clerk records a publicity item (宣传报道) that the daily dispatch counts;
// - data entry: 市场监管局 uploads its business records for 开办企业 (办件台账, a CSV);
// - verification: the evaluator draws the official record sample, asks for each sampled record's
//   evidence and, once each is delivered, verifies one as confirmed and one as discrepant;
//   records who of the sampled enterprises answered the questionnaire (an imported list, one
//   marked by hand), prints the response rates and has the bureau raise the 协助企业填报 task
//   for the department whose enterprises have not answered; records a site visit;
// - reporting: the bureau adjusts one department's assessment, with its reason.
// The proposals themselves (proposed, returned once, proposed again, selected) are task work,
// done in `SimulatedDepartments` like every other task.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { CampaignDefinition } from '../../domain/definition.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import { formatIsoOffset, localDateOf } from '../../domain/time.ts';
import type { CliRun } from './run-node.ts';

const BUREAU = 'spj-coord';
const EVALUATOR = 'dsf-eval';
/** The indicator whose records are sampled and whose lead unit is visited. */
const RECORDS_INDICATOR = 'kbqy';
const RECORDS_UNIT = 'scjgj';
const RECORDS_CLERK = 'scjgj-staff1';
/** Enterprises of the list, and how many of the sampled ones do not answer. */
const ENTERPRISES = 120;
const NOT_ANSWERING = 3;

export interface TourContext {
  campaignId: string;
  definition: CampaignDefinition;
  pool: pg.Pool;
  /** A folder for the files the people import. */
  dir: string;
  /** Runs a command as the person named (`human`: its own output printed, not --json). */
  cli: (who: string, args: string[], opts?: { human?: boolean }) => Promise<CliRun>;
  /** A person as people know them. */
  who: (personId: string) => string;
  /** A line of the log. */
  log: (line: string) => void;
}

interface Enterprise {
  creditCode: string;
  name: string;
  supervisor: 'scjgj' | 'swj';
}

export class DemoTour {
  private readonly done = new Set<string>();
  /** A step was refused: the steps after it are left out, and the campaign goes on. */
  private failed = false;
  /** Verification ended before the records were asked for (a very fast pace): none to verify. */
  private recordsMissed = false;
  private recordRequests: { unit: string; recordNo: string; taskId: string }[] = [];
  readonly enterprises: Enterprise[];

  constructor(private readonly c: TourContext) {
    // One in four supervised by 税务局 (they answer 纳税's questionnaire), the others by
    // 市场监管局 (开办企业's and 市场监管's).
    this.enterprises = Array.from({ length: ENTERPRISES }, (_, i) => ({
      creditCode: withCreditCheck(`913400000000${String(i).padStart(5, '0')}`),
      name: `演示企业${i}号有限公司`,
      supervisor: i % 4 === 0 ? 'swj' : 'scjgj',
    }));
  }

  /** The full enterprise list the bureau imports: with 主管部门 and 问卷指标. */
  enterpriseCsv(): string {
    const lines = ['统一社会信用代码,企业名称,行业,乡镇,主管部门,问卷指标'];
    for (const [i, e] of this.enterprises.entries())
      lines.push(
        `${e.creditCode},${e.name},${i % 3 ? '制造业' : '服务业'},城关镇,${e.supervisor},"${e.supervisor === 'swj' ? 'ns' : 'kbqy、scjg'}"`,
      );
    return `${lines.join('\n')}\n`;
  }

  /**
   * What the evaluator samples is verified (or a step was refused, and the results need not
   * wait for it): the bureau imports the results only then.
   */
  get verified(): boolean {
    const records =
      this.recordsMissed ||
      (this.done.has('record-confirmed') && this.done.has('record-discrepant'));
    return this.failed || (records && this.done.has('visit'));
  }

  /** The next step due at this point of the campaign, if any; true when one was taken. */
  async act(phase: string, progress: { sampled: boolean; results: boolean }): Promise<boolean> {
    if (this.failed) return false;
    const later = ['dataEntry', 'verification', 'reporting', 'closing'];
    if (phase === 'training' || later.includes(phase)) {
      if (await this.once('highlight-request', () => this.requestHighlight('highlight')))
        return true;
      if (await this.once('case-request', () => this.requestHighlight('case'))) return true;
      if (await this.once('publicity', () => this.publicity())) return true;
    }
    if (later.includes(phase)) {
      if (await this.once('records-upload', () => this.uploadRecords())) return true;
    }
    if (phase === 'verification') {
      if (await this.once('records-sample', () => this.sampleRecords())) return true;
      if ((await this.indicatorPhase(RECORDS_INDICATOR)) === 'verification')
        if (await this.once('records-request', () => this.requestRecords())) return true;
    }
    if ((phase === 'reporting' || phase === 'closing') && !this.done.has('records-request')) {
      if (!this.recordsMissed)
        this.c.log(`… 信息核验阶段已结束，${RECORDS_INDICATOR} 的抽样办件未及调取`);
      this.recordsMissed = true;
    }
    if (phase === 'verification' || phase === 'reporting' || phase === 'closing') {
      if (progress.sampled) {
        if (await this.once('questionnaire-import', () => this.importAnswers())) return true;
        if (await this.once('questionnaire-mark', () => this.markAnswer())) return true;
        if (await this.once('questionnaire-status', () => this.questionnaireStatus())) return true;
        if (await this.once('questionnaire-chase', () => this.chase())) return true;
      }
      if (await this.once('visit', () => this.visit())) return true;
      // Each record verified once its unit has delivered the evidence asked for.
      const [first, second] = this.recordRequests;
      if (first && (await this.taskDone(first.taskId)))
        if (
          await this.once('record-confirmed', () =>
            this.verifyRecord(first, 'confirmed', '办结时限、材料与台账记载一致'),
          )
        )
          return true;
      if (second && (await this.taskDone(second.taskId)))
        if (
          await this.once('record-discrepant', () =>
            this.verifyRecord(
              second,
              'discrepant',
              '台账记载 0.5 个工作日办结，系统日志显示实际用时 3 个工作日',
            ),
          )
        )
          return true;
    }
    if ((phase === 'reporting' || phase === 'closing') && progress.results) {
      if (await this.once('assessment-adjust', () => this.adjust())) return true;
    }
    return false;
  }

  /** Runs a step once; a refusal ends the walk (the campaign itself goes on). */
  private async once(key: string, step: () => Promise<CliRun>): Promise<boolean> {
    if (this.done.has(key)) return false;
    this.done.add(key);
    const r = await step();
    if (r.code !== 0) this.failed = true;
    return true;
  }

  private get id(): string {
    return this.c.campaignId;
  }

  private get timeZone(): string {
    return this.c.definition.campaign.timeZone;
  }

  /** A local date-time some minutes from now, to the minute (a due time for the CLI). */
  private dueIn(minutes: number): string {
    return formatIsoOffset(Date.now() + minutes * 60_000, this.timeZone).slice(0, 16);
  }

  private today(): string {
    return localDateOf(Date.now(), this.timeZone);
  }

  private write(name: string, text: string): string {
    const file = join(this.c.dir, name);
    writeFileSync(file, text);
    return file;
  }

  private async indicatorPhase(code: string): Promise<string | undefined> {
    const r = await this.c.pool.query<{ phase: string }>(
      'SELECT phase FROM indicator_status WHERE campaign_id = $1 AND code = $2',
      [this.id, code],
    );
    return r.rows[0]?.phase;
  }

  private async taskDone(taskId: string): Promise<boolean> {
    const r = await this.c.pool.query<{ state: string }>(
      'SELECT state FROM tasks WHERE task_id = $1',
      [taskId],
    );
    return r.rows[0]?.state === 'done';
  }

  // ---- highlights, typical cases, publicity ----

  private requestHighlight(type: 'highlight' | 'case'): Promise<CliRun> {
    const ask =
      type === 'highlight'
        ? { indicator: 'kbqy', assignee: 'scjgj-staff1', title: '报送开办企业改革亮点' }
        : { indicator: 'scjg', assignee: 'scjgj-staff2', title: '报送市场监管典型案例' };
    return this.c.cli(this.c.who(BUREAU), [
      'highlight',
      'request',
      this.id,
      '--type',
      type,
      '--unit',
      'scjgj',
      '--assignee',
      ask.assignee,
      '--indicator',
      ask.indicator,
      '--title',
      ask.title,
      '--due',
      this.dueIn(3),
      '--as',
      BUREAU,
    ]);
  }

  private publicity(): Promise<CliRun> {
    return this.c.cli(this.c.who('scjgj-staff1'), [
      'publicity',
      'add',
      this.id,
      '--as',
      'scjgj-staff1',
      '--channel',
      'wechat',
      '--title',
      '我县企业开办实现“一网通办、一日办结”',
      '--date',
      this.today(),
      '--link',
      'https://mp.weixin.qq.com/s/yanshixian-kbqy',
      '--reach',
      '3200',
    ]);
  }

  // ---- business records (办件台账) ----

  private uploadRecords(): Promise<CliRun> {
    const matters = ['企业设立登记', '企业变更登记', '个体工商户设立登记', '企业注销登记'];
    const lines = ['办件编号,办结日期,事项名称,申请人,办理时长（工作日）'];
    for (let i = 1; i <= 15; i++) {
      const day = 2 + ((i * 2) % 26);
      lines.push(
        `KB-2026-${String(i).padStart(4, '0')},2026-11-${String(day).padStart(2, '0')},${matters[i % matters.length]},演示县${'甲乙丙丁戊己庚辛壬癸'[i % 10]}${i}商贸有限公司,${i % 3 ? '0.5' : '1'}`,
      );
    }
    const file = this.write('办件台账-scjgj-kbqy.csv', `${lines.join('\n')}\n`);
    return this.c.cli(this.c.who(RECORDS_CLERK), [
      'records',
      'upload',
      this.id,
      RECORDS_INDICATOR,
      '--unit',
      RECORDS_UNIT,
      '--file',
      file,
      '--as',
      RECORDS_CLERK,
    ]);
  }

  private async sampleRecords(): Promise<CliRun> {
    const r = await this.c.cli(this.c.who(EVALUATOR), [
      'records',
      'sample',
      this.id,
      RECORDS_INDICATOR,
      '--count',
      '3',
      '--seed',
      `${this.id}-records`,
      '--as',
      EVALUATOR,
    ]);
    if (r.code === 0) {
      const d = r.json<{
        drawNo: number;
        population: number;
        records: { recordNo: string; matter: string }[];
      }>();
      this.c.log(
        `    正式样本第 ${d.drawNo} 次：从 ${d.population} 条中抽中 ${d.records.map((x) => `${x.recordNo}（${x.matter}）`).join('、')}`,
      );
    }
    return r;
  }

  private async requestRecords(): Promise<CliRun> {
    const r = await this.c.cli(this.c.who(EVALUATOR), [
      'records',
      'request',
      this.id,
      RECORDS_INDICATOR,
      '--as',
      EVALUATOR,
    ]);
    if (r.code === 0) {
      this.recordRequests = r.json<{
        requested: { unit: string; recordNo: string; taskId: string }[];
      }>().requested;
      for (const x of this.recordRequests) this.c.log(`    ${x.recordNo} → ${x.taskId}`);
    }
    return r;
  }

  private verifyRecord(
    rec: { unit: string; recordNo: string },
    outcome: 'confirmed' | 'discrepant',
    note: string,
  ): Promise<CliRun> {
    return this.c.cli(this.c.who(EVALUATOR), [
      'records',
      'verify',
      this.id,
      RECORDS_INDICATOR,
      '--record',
      rec.recordNo,
      '--outcome',
      outcome,
      '--note',
      note,
      '--as',
      EVALUATOR,
    ]);
  }

  // ---- the enterprise questionnaire followed ----

  /** The official enterprise sample, as the list's rows. */
  private async sampled(): Promise<Enterprise[]> {
    const r = await this.c.pool.query<{ enterprises: string[] }>(
      'SELECT enterprises FROM samples WHERE campaign_id = $1 AND official',
      [this.id],
    );
    const codes = new Set(r.rows[0]?.enterprises ?? []);
    return this.enterprises.filter((e) => codes.has(e.creditCode));
  }

  /** Sampled enterprises of 市场监管局 that have not answered (the chase is for them). */
  private async silent(): Promise<Enterprise[]> {
    return (await this.sampled()).filter((e) => e.supervisor === 'scjgj').slice(0, NOT_ANSWERING);
  }

  private async importAnswers(): Promise<CliRun> {
    const silent = new Set((await this.silent()).map((e) => e.creditCode));
    const answered = (await this.sampled()).filter((e) => !silent.has(e.creditCode));
    // All but the last: that one the evaluator marks by hand.
    const listed = answered.slice(0, -1);
    const lines = ['统一社会信用代码,企业名称,填报日期'];
    for (const e of listed) lines.push(`${e.creditCode},${e.name},${this.today()}`);
    const file = this.write('已答卷企业.csv', `${lines.join('\n')}\n`);
    const r = await this.c.cli(this.c.who(EVALUATOR), [
      'questionnaire',
      'import',
      this.id,
      '--file',
      file,
      '--as',
      EVALUATOR,
    ]);
    if (r.code === 0) {
      const d = r.json<{ enterprises: number; imported: number }>();
      this.c.log(`    ${d.enterprises} 家企业、${d.imported} 份答卷已记录`);
    }
    return r;
  }

  private async markAnswer(): Promise<CliRun> {
    const silent = new Set((await this.silent()).map((e) => e.creditCode));
    const last = (await this.sampled()).filter((e) => !silent.has(e.creditCode)).at(-1);
    return this.c.cli(this.c.who(EVALUATOR), [
      'questionnaire',
      'mark',
      this.id,
      last?.creditCode ?? '',
      '--date',
      this.today(),
      '--as',
      EVALUATOR,
    ]);
  }

  private questionnaireStatus(): Promise<CliRun> {
    return this.c.cli(this.c.who(BUREAU), ['questionnaire', 'status', this.id], { human: true });
  }

  private async chase(): Promise<CliRun> {
    const r = await this.c.cli(this.c.who(BUREAU), [
      'questionnaire',
      'chase',
      this.id,
      '--due',
      this.dueIn(3),
      '--as',
      BUREAU,
    ]);
    if (r.code === 0)
      for (const x of r.json<{ raised: { taskId: string; enterprises: number }[] }>().raised)
        this.c.log(`    协助企业填报 → ${x.taskId}（${x.enterprises} 家企业）`);
    return r;
  }

  private visit(): Promise<CliRun> {
    return this.c.cli(this.c.who(EVALUATOR), [
      'visit',
      'record',
      this.id,
      RECORDS_INDICATOR,
      '--kind',
      'site-visit',
      '--date',
      this.today(),
      '--place',
      '县政务服务中心企业开办专区',
      '--outcome',
      'confirmed',
      '--note',
      '现场查看一窗受理、当日出照，与填报一致',
      '--as',
      EVALUATOR,
    ]);
  }

  // ---- the units' assessment (考核) ----

  private adjust(): Promise<CliRun> {
    return this.c.cli(this.c.who(BUREAU), [
      'assessment',
      'adjust',
      this.id,
      '--unit',
      'swj',
      '--points',
      '1',
      '--reason',
      '主动配合开办企业整改，局务会研究加 1 分',
      '--as',
      BUREAU,
    ]);
  }
}
