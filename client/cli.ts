// The `campaign` command: the bureau's and the departments' way into the engine.
// Exit codes: 0 done, 1 refused or invalid, 2 usage error, 3 a service is unreachable.
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../worker/config-error.ts';
import type { AddMeasureOptions } from './commands/campaign.ts';
import { CliError, describeFailure, EXIT } from './errors.ts';
import {
  errColour,
  FORMATS,
  printJson,
  type Format,
  type Lang,
  type OutputOptions,
} from './output.ts';
import { clearProgress } from './progress.ts';
import { checkCommandText } from './text-args.ts';

// `campaign … | head`: the reader has gone, so stop quietly as Unix tools do, instead of
// crashing with an unhandled EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command();

program
  .name('campaign')
  .description(
    '营商环境考核评价 campaign engine — county business-environment evaluation on Temporal',
  )
  .addOption(new Option('--json', 'print one JSON document on stdout (for programs)'))
  .addOption(
    new Option('--lang <lang>', 'language of human output').choices(['zh', 'en']).default('zh'),
  )
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  // Every argument and option value of the command about to run keeps the text rule.
  .hook('preAction', (_program, actionCommand) => checkCommandText(actionCommand));

function outputOptions(cmd: Command): OutputOptions {
  const o = cmd.optsWithGlobals<{ json?: boolean; lang?: Lang }>();
  return { json: o.json === true, lang: o.lang ?? 'zh' };
}

/** A command under `parent` that accepts --json/--lang too, wherever they are written. */
function commandOf(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .addOption(new Option('--json', 'print one JSON document on stdout (for programs)'))
    .addOption(new Option('--lang <lang>', 'language of human output').choices(['zh', 'en']))
    .exitOverride();
}

function sub(name: string, description: string): Command {
  return commandOf(program, name, description);
}

sub(
  'validate',
  'check a campaign definition (YAML, JSON or the xlsx workbook) and list every problem with its path',
)
  .argument('<file>', 'the definition file')
  .action(async (file: string, _o, cmd: Command) =>
    (await import('./commands/definition.ts')).validateCommand(file, outputOptions(cmd)),
  );

sub(
  'schedule',
  "show the working-day calendar at work: phase windows and each indicator's data-entry day",
)
  .argument('<file>', 'the definition file')
  .action(async (file: string, _o, cmd: Command) =>
    (await import('./commands/definition.ts')).scheduleCommand(file, outputOptions(cmd)),
  );

sub(
  'template',
  'write the division-of-labour workbook (任务分工表.xlsx): empty with an example row, or filled from a definition',
)
  .option('--from <definition>', 'fill it from this campaign definition (YAML, JSON or xlsx)')
  .option('--out <file>', 'the workbook to write (.xlsx); never through a symbolic link')
  .option('--force', 'replace the --out file when it exists')
  .action(async (opts: { from?: string; out?: string; force?: boolean }, cmd: Command) =>
    (await import('./commands/workbook.ts')).templateCommand(opts, outputOptions(cmd)),
  );

sub(
  'import-workbook',
  'turn a filled division-of-labour workbook into a campaign definition, or list every mistake by sheet, row and column',
)
  .argument('<file>', 'the workbook (.xlsx)')
  .option('--out <file>', 'write the definition (YAML) here; without it, to stdout')
  .option('--force', 'replace the --out file when it exists')
  .action(async (file: string, opts: { out?: string; force?: boolean }, cmd: Command) =>
    (await import('./commands/workbook.ts')).importWorkbookCommand(file, opts, outputOptions(cmd)),
  );

sub('doctor', 'check the services, the worker and the whole chain with a system-check workflow')
  .option(
    '--timeout <seconds>',
    'how long the system check may take',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 5 || n > 600)
        throw new CliError('--timeout must be whole seconds between 5 and 600', EXIT.usage);
      return n;
    },
    60,
  )
  .option(
    '--retry',
    'tell every workflow whose records PostgreSQL refused to write them again (once the cause is fixed)',
  )
  .action(async (opts: { timeout: number; retry?: boolean }, cmd: Command) =>
    (await import('./commands/doctor.ts')).doctorCommand(opts, outputOptions(cmd)),
  );

const STATE_FILTERS = ['open', 'overdue', 'done', 'all'];
const tasksModule = () => import('./commands/tasks.ts');

sub('tasks', "list a campaign's tasks (督办事项) with their state, due time and colour")
  .argument('<campaignId>', 'the campaign')
  .option('--unit <unit>', "only this unit's tasks")
  .option('--indicator <code>', "only this indicator's tasks")
  .addOption(new Option('--state <state>', 'which tasks').choices(STATE_FILTERS).default('open'))
  .action(
    async (
      campaignId: string,
      opts: { unit?: string; indicator?: string; state: string },
      cmd: Command,
    ) => (await tasksModule()).listTasksCommand(campaignId, opts, outputOptions(cmd)),
  );

const task = program.command('task').description('show and act on one task').exitOverride();

function taskSub(name: string, description: string): Command {
  return commandOf(task, name, description);
}

taskSub('show', 'one task with its full event history')
  .argument('<taskId>', 'the task id (also its Temporal workflow id)')
  .action(async (taskId: string, _o, cmd: Command) =>
    (await tasksModule()).showTaskCommand(taskId, outputOptions(cmd)),
  );

const ACTIONS = {
  submit: 'a department reports completion (with a note, data and evidence)',
  approve: 'the reviewer approves a submission',
  return: 'the reviewer returns a submission with reasons',
  extend: 'ask for more time, or grant it',
  reassign: 'hand the task to another person of the unit',
  cancel: 'the bureau cancels the task',
} as const;

for (const [name, description] of Object.entries(ACTIONS) as [keyof typeof ACTIONS, string][]) {
  const c = taskSub(name, description)
    .argument('<taskId>', 'the task id')
    .requiredOption('--as <personId>', 'the person acting, from the campaign roster')
    .option('--request-id <id>', 'idempotency key: the same id twice is applied once');
  if (name === 'submit') {
    c.option('--note <text>', 'what was done')
      .option(
        '--data <file>',
        'questionnaire data: JSON, YAML, or CSV with a header row and one data row',
      )
      .option(
        '--evidence <pathOrUrl>',
        'supporting evidence (repeatable)',
        (v: string, acc: string[]) => [...acc, v],
        [],
      );
  }
  if (name === 'approve') c.option('--note <text>', 'a remark for the record');
  if (name === 'return' || name === 'cancel') c.requiredOption('--reason <text>', 'why');
  if (name === 'extend')
    c.requiredOption(
      '--until <datetime>',
      'the new due time, e.g. 2026-10-20T18:00',
    ).requiredOption('--reason <text>', 'why');
  if (name === 'reassign')
    c.requiredOption('--to <personId>', 'the new assignee, of the same unit');
  c.action(async (taskId: string, opts: Record<string, unknown>, cmd: Command) =>
    (await tasksModule()).taskActionCommand(name, taskId, opts as never, outputOptions(cmd)),
  );
}

taskSub('create', 'raise an ad-hoc supervised task for a unit (the bureau)')
  .option('--campaign <campaignId>', 'the running campaign the task belongs to')
  .option('--file <definition>', 'a definition naming the campaign (when --campaign is not given)')
  .requiredOption('--unit <unit>', 'the unit that must do the work')
  .requiredOption('--assignee <personId>', 'the person of that unit who does it')
  .requiredOption('--title <text>', 'what is asked')
  .requiredOption('--due <datetime>', 'when it is due, e.g. 2026-10-20T18:00')
  .requiredOption('--as <personId>', 'the bureau coordinator raising it')
  .option('--indicator <code>', 'the indicator it belongs to')
  .option('--kind <kind>', 'the task kind', 'adhoc')
  .option('--key <key>', 'a suffix that makes the task id unique')
  .option('--no-review', "done on submission, without the bureau's review")
  .option('--note', 'completion requires a note', false)
  .option('--evidence', 'completion requires evidence', false)
  .option('--request-id <id>', 'idempotency key (default: derived from the command)')
  .action(async (opts: Record<string, unknown>, cmd: Command) =>
    (await tasksModule()).createTaskCommand(opts as never, outputOptions(cmd)),
  );

const campaignModule = () => import('./commands/campaign.ts');

sub('start', 'start a campaign from its definition; a second start of the same id is refused')
  .argument('<file>', 'the definition file')
  .option('--allow-past', 'start even though a phase window has already ended', false)
  .option('--id <campaignId>', 'override the campaign id of the file')
  .option('--as <personId>', 'the bureau coordinator starting it')
  .option(
    '--begin <when>',
    'move every phase window so that training begins then ("now" or a date-time): for demonstrations',
  )
  .option(
    '--pace <factor>',
    'run the campaign this many times faster (windows and ISO durations divided; working days stay): for demonstrations',
  )
  .action(
    async (
      file: string,
      opts: { id?: string; as?: string; begin?: string; pace?: string },
      cmd: Command,
    ) => (await campaignModule()).startCommand(file, opts, outputOptions(cmd)),
  );

const boardModule = () => import('./commands/board.ts');

sub('list', 'campaigns and their phase').action(async (_o, cmd: Command) =>
  (await boardModule()).listCommand(outputOptions(cmd)),
);

sub('status', "the board: every indicator's phase, state, next due, overdue, escalation and colour")
  .argument('<campaignId>', 'the campaign')
  .action(async (campaignId: string, _o, cmd: Command) =>
    (await boardModule()).statusCommand(campaignId, outputOptions(cmd)),
  );

const enterprises = program
  .command('enterprises')
  .description('the full enterprise list (企业全量名单)')
  .exitOverride();
commandOf(
  enterprises,
  'import',
  'load the full enterprise list from a CSV (统一社会信用代码, 企业名称[, 行业, 乡镇]); a file with bad lines imports nothing',
)
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--file <csv>', 'the CSV file')
  .requiredOption('--as <personId>', 'the bureau coordinator importing it')
  .action(async (campaignId: string, opts: { file: string; as: string }, cmd: Command) =>
    (await campaignModule()).importEnterprisesCommand(campaignId, opts, outputOptions(cmd)),
  );

const recordsModule = () => import('./commands/records.ts');

sub(
  'sample',
  "draw the verification sample of enterprises by the campaign's proportion; the first draw is the official one, the same seed gives it again, a redraw needs the bureau's reason",
)
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--as <personId>', 'the evaluator or bureau coordinator drawing it')
  .option('--seed <seed>', "the seed (recorded; without it, the official draw's, or a random one)")
  .option(
    '--reason <text>',
    "the bureau's reason for drawing again (the new draw becomes the official one)",
  )
  .action(
    async (
      campaignId: string,
      opts: { as: string; seed?: string; reason?: string },
      cmd: Command,
    ) => (await recordsModule()).sampleEnterprisesCommand(campaignId, opts, outputOptions(cmd)),
  );

const records = program
  .command('records')
  .description(
    "departments' business records (办件台账): uploaded, sampled, asked for and verified",
  )
  .exitOverride();
commandOf(
  records,
  'upload',
  'a unit uploads its record list for an indicator (CSV or xlsx: 办件编号, 办结日期, 事项名称, 申请人, 办理时长（工作日）, …); a file with bad rows imports nothing',
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption(
    '--unit <unit>',
    "the unit whose records these are (the indicator's lead or a cooperating unit)",
  )
  .requiredOption('--file <file>', 'the record list (.csv in UTF-8 or GBK, or .xlsx)')
  .requiredOption('--as <personId>', 'a person of that unit, or a bureau coordinator')
  .action(
    async (
      campaignId: string,
      code: string,
      opts: { unit: string; file: string; as: string },
      cmd: Command,
    ) => (await recordsModule()).uploadRecordsCommand(campaignId, code, opts, outputOptions(cmd)),
  );
commandOf(
  records,
  'sample',
  "draw the record sample of an indicator, seeded and reproducible, by proportion or count, stratified by unit when asked; a redraw needs the bureau's reason",
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--as <personId>', 'the evaluator (or, for a redraw, a bureau coordinator)')
  .option('--seed <seed>', "the seed (recorded; without it, the official draw's, or a random one)")
  .option(
    '--proportion <p>',
    "the share of records drawn, in (0, 1] (default: the campaign's sampling proportion)",
  )
  .option('--count <n>', 'the number of records drawn')
  .option('--by-unit', 'stratified: each unit drawn on its own, in proportion')
  .option(
    '--reason <text>',
    "the bureau's reason for drawing again (the new draw becomes the official one)",
  )
  .action(
    async (
      campaignId: string,
      code: string,
      opts: {
        as: string;
        seed?: string;
        proportion?: string;
        count?: string;
        byUnit?: boolean;
        reason?: string;
      },
      cmd: Command,
    ) => (await recordsModule()).sampleRecordsCommand(campaignId, code, opts, outputOptions(cmd)),
  );
commandOf(
  records,
  'request',
  'ask each sampled record of the official draw from its unit: one evidence request (a task due in working days, reminded and escalated) per record',
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--as <personId>', 'the evaluator asking')
  .action(async (campaignId: string, code: string, opts: { as: string }, cmd: Command) =>
    (await recordsModule()).requestRecordsCommand(campaignId, code, opts, outputOptions(cmd)),
  );
commandOf(
  records,
  'verify',
  'the evaluator records the outcome of one sampled record; a discrepancy flags the indicator',
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--record <recordNo>', 'the record number (办件编号)')
  .option('--unit <unit>', 'the unit, when the number is sampled from several')
  .addOption(
    new Option('--outcome <outcome>', 'the outcome')
      .choices(['confirmed', 'discrepant'])
      .makeOptionMandatory(),
  )
  .option('--note <text>', 'what was found')
  .requiredOption('--as <personId>', 'the evaluator')
  .action(
    async (
      campaignId: string,
      code: string,
      opts: {
        record: string;
        unit?: string;
        outcome: 'confirmed' | 'discrepant';
        note?: string;
        as: string;
      },
      cmd: Command,
    ) => (await recordsModule()).verifyRecordCommand(campaignId, code, opts, outputOptions(cmd)),
  );
commandOf(
  records,
  'show',
  "an indicator's uploaded lists and every draw of its record sample, the official one marked",
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .action(async (campaignId: string, code: string, _o, cmd: Command) =>
    (await recordsModule()).showRecordsCommand(campaignId, code, outputOptions(cmd)),
  );

const evidence = program
  .command('evidence')
  .description('supporting evidence (印证资料) requests')
  .exitOverride();
commandOf(
  evidence,
  'request',
  "the evaluator asks a unit for supporting evidence (a task due in the policy's working days)",
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--unit <unit>', 'the unit that must provide it')
  .requiredOption('--what <text>', 'what is asked for')
  .requiredOption('--as <personId>', 'the evaluator asking')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(
    async (
      campaignId: string,
      code: string,
      opts: { unit: string; what: string; as: string },
      cmd: Command,
    ) =>
      (await campaignModule()).evidenceRequestCommand(campaignId, code, opts, outputOptions(cmd)),
  );

sub('verify', 'the evaluator records a verified item; a discrepancy is flagged and escalated')
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--item <text>', 'the item verified')
  .addOption(
    new Option('--outcome <outcome>', 'the outcome')
      .choices(['confirmed', 'discrepant'])
      .makeOptionMandatory(),
  )
  .requiredOption('--as <personId>', 'the evaluator')
  .option('--note <text>', 'what was found')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(
    async (
      campaignId: string,
      code: string,
      opts: { item: string; outcome: 'confirmed' | 'discrepant'; as: string; note?: string },
      cmd: Command,
    ) => (await campaignModule()).verifyCommand(campaignId, code, opts, outputOptions(cmd)),
  );

const results = program
  .command('results')
  .description("the evaluation's scores and ranks")
  .exitOverride();
commandOf(
  results,
  'import',
  "record each indicator's score and rank from a CSV (指标代码, 得分, 排名); marks indicators for rectification",
)
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--file <csv>', 'the CSV file')
  .requiredOption('--as <personId>', 'the bureau coordinator importing them')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(async (campaignId: string, opts: { file: string; as: string }, cmd: Command) =>
    (await campaignModule()).importResultsCommand(campaignId, opts, outputOptions(cmd)),
  );

sub('rectify', 'the bureau starts the rectification (整改) of an indicator by hand, with a reason')
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--as <personId>', 'the bureau coordinator')
  .requiredOption('--reason <text>', 'why')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(
    async (campaignId: string, code: string, opts: { as: string; reason: string }, cmd: Command) =>
      (await campaignModule()).rectifyCommand(campaignId, code, opts, outputOptions(cmd)),
  );

const steerModule = () => import('./commands/steer.ts');
sub(
  'phase',
  'the bureau closes the phase under way now, or gives a phase a later end (the affected tasks are re-dated)',
)
  .argument('<campaignId>', 'the campaign')
  .argument('<action>', 'close (end it now) or extend (a later end, with --until)')
  .argument('<phase>', 'training, dataEntry, verification or reporting')
  .option(
    '--until <datetime>',
    'the new end, for extend (a bare date: the end of that working day)',
  )
  .requiredOption('--as <personId>', 'the bureau coordinator or head')
  .requiredOption('--reason <text>', 'why (recorded with the decision)')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(
    async (
      campaignId: string,
      action: string,
      phase: string,
      opts: { as: string; reason: string; until?: string; requestId?: string },
      cmd: Command,
    ) => (await steerModule()).phaseCommand(campaignId, action, phase, opts, outputOptions(cmd)),
  );

sub('cancel', 'the bureau cancels a campaign started by mistake or for a rehearsal')
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--as <personId>', 'the bureau coordinator or head')
  .requiredOption('--reason <text>', 'why (every open task is cancelled with it)')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(
    async (
      campaignId: string,
      opts: { as: string; reason: string; requestId?: string },
      cmd: Command,
    ) => (await steerModule()).cancelCampaignCommand(campaignId, opts, outputOptions(cmd)),
  );

const measure = program.command('measure').description('rectification measures').exitOverride();
commandOf(
  measure,
  'add',
  'add a measure to a rectification under way (a split or a new finding), with a reason',
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .requiredOption('--problem <n>', 'the problem number it addresses')
  .requiredOption('--measure <text>', 'what will be done')
  .requiredOption('--unit <unit>', 'the responsible unit')
  .requiredOption('--person <personId>', 'the responsible person of that unit')
  .requiredOption('--due <datetime>', 'the deadline')
  .requiredOption('--reason <text>', 'why it is added')
  .requiredOption('--as <personId>', 'the bureau coordinator')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(async (campaignId: string, code: string, opts: AddMeasureOptions, cmd: Command) =>
    (await campaignModule()).addMeasureCommand(campaignId, code, opts, outputOptions(cmd)),
  );

const accounts = program
  .command('accounts')
  .description("the portal's accounts: invitations (set a password) and revocation")
  .exitOverride();
commandOf(accounts, 'invite', 'issue one-time, expiring portal invitations from the roster')
  .argument('<campaignId>', 'the campaign whose roster is used')
  .option('--unit <unit>', "only this unit's people")
  .option('--person <personId>', 'only this person')
  .requiredOption('--as <personId>', "the bureau's coordinator or head")
  .option('--out <file>', 'write the links to a CSV file (for handing out)')
  .action(
    async (
      campaignId: string,
      opts: { unit?: string; person?: string; as: string; out?: string },
      cmd: Command,
    ) =>
      (await import('./commands/accounts.ts')).inviteCommand(campaignId, opts, outputOptions(cmd)),
  );
commandOf(accounts, 'revoke', "revoke a person's portal account (sessions ended, links withdrawn)")
  .argument('<campaignId>', 'the campaign')
  .argument('<personId>', 'the person')
  .requiredOption('--as <personId>', "the bureau's coordinator or head")
  .action(async (campaignId: string, person: string, opts: { as: string }, cmd: Command) =>
    (await import('./commands/accounts.ts')).revokeCommand(
      campaignId,
      person,
      opts,
      outputOptions(cmd),
    ),
  );

const formatOption = () =>
  new Option('--format <format>', 'output format').choices([...FORMATS]).default('table');

const report = program
  .command('report')
  .description('reports: the daily dispatch, the rectification ledger and the units’ assessment')
  .exitOverride();
commandOf(report, 'ledger', 'the rectification ledger (整改台账)')
  .argument('<campaignId>', 'the campaign')
  .addOption(formatOption())
  .option('--out <file>', 'write to a file (required for xlsx); never through a symbolic link')
  .option('--force', 'replace the --out file when it exists')
  .action(
    async (
      campaignId: string,
      opts: { format: Format; out?: string; force?: boolean },
      cmd: Command,
    ) =>
      (await import('./commands/reports.ts')).ledgerReportCommand(
        campaignId,
        opts,
        outputOptions(cmd),
      ),
  );
commandOf(report, 'dispatch', 'the daily dispatch digest (每日调度)')
  .argument('<campaignId>', 'the campaign')
  .option('--date <date>', 'the day, YYYY-MM-DD (default today)')
  .addOption(formatOption())
  .option('--out <file>', 'write to a file (required for xlsx); never through a symbolic link')
  .option('--force', 'replace the --out file when it exists')
  .action(
    async (
      campaignId: string,
      opts: { date?: string; format: Format; out?: string; force?: boolean },
      cmd: Command,
    ) =>
      (await import('./commands/reports.ts')).dispatchReportCommand(
        campaignId,
        opts,
        outputOptions(cmd),
      ),
  );

commandOf(
  report,
  'assessment',
  "the units' assessment (考核): each department's points, every deduction and bonus traced to its rule, task and event, with the bureau's adjustments",
)
  .argument('<campaignId>', 'the campaign')
  .addOption(formatOption())
  .option('--out <file>', 'write to a file (required for xlsx); never through a symbolic link')
  .option('--force', 'replace the --out file when it exists')
  .action(
    async (
      campaignId: string,
      opts: { format: Format; out?: string; force?: boolean },
      cmd: Command,
    ) =>
      (await import('./commands/assessment.ts')).assessmentReportCommand(
        campaignId,
        opts,
        outputOptions(cmd),
      ),
  );

const assessment = program
  .command('assessment')
  .description("the units' assessment (考核): the bureau's adjustments")
  .exitOverride();
commandOf(
  assessment,
  'adjust',
  "the bureau adjusts a unit's assessment by some points, with a reason (recorded, never changed; shown beside the computed figure)",
)
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--unit <unit>', 'the department adjusted')
  .requiredOption('--points <n>', 'points added (or taken, when negative), e.g. 2 or -1.5')
  .requiredOption('--reason <text>', 'why (shown with the adjustment)')
  .requiredOption('--as <personId>', "the bureau's coordinator or head")
  .action(
    async (
      campaignId: string,
      opts: { unit: string; points: string; reason: string; as: string },
      cmd: Command,
    ) =>
      (await import('./commands/assessment.ts')).adjustAssessmentCommand(
        campaignId,
        opts,
        outputOptions(cmd),
      ),
  );

// ---- the enterprise questionnaire followed (企业问卷跟踪), site visits and interviews ----
const questionnaireModule = () => import('./commands/questionnaire.ts');
const questionnaire = program
  .command('questionnaire')
  .description(
    'the sampled enterprises’ questionnaire (企业问卷): answers, response rates, chase tasks',
  )
  .exitOverride();
commandOf(
  questionnaire,
  'import',
  'record the answered list (CSV or xlsx: 统一社会信用代码[, 指标代码, 填报日期, 企业名称]); a file with bad lines records nothing',
)
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--file <file>', 'the answered list (.csv or .xlsx)')
  .requiredOption('--as <personId>', 'the evaluator (or bureau coordinator) recording it')
  .action(async (campaignId: string, opts: { file: string; as: string }, cmd: Command) =>
    (await questionnaireModule()).importAnswersCommand(campaignId, opts, outputOptions(cmd)),
  );
commandOf(questionnaire, 'mark', 'mark one sampled enterprise as having answered (or not)')
  .argument('<campaignId>', 'the campaign')
  .argument('<creditCode>', 'the enterprise’s 统一社会信用代码')
  .option(
    '--indicator <code>',
    'only this indicator’s questionnaire (repeatable; default every one it is asked)',
    (v: string, acc: string[]) => [...acc, v],
    [],
  )
  .option('--date <date>', 'the day it answered, YYYY-MM-DD')
  .option('--not-answered', 'record that it has not answered (a correction)')
  .requiredOption('--as <personId>', 'the evaluator (or bureau coordinator)')
  .action(
    async (
      campaignId: string,
      creditCode: string,
      opts: { as: string; indicator: string[]; date?: string; notAnswered?: boolean },
      cmd: Command,
    ) =>
      (await questionnaireModule()).markAnswerCommand(
        campaignId,
        creditCode,
        opts,
        outputOptions(cmd),
      ),
  );
commandOf(
  questionnaire,
  'status',
  'the response rate per indicator and per responsible department, and who has not answered',
)
  .argument('<campaignId>', 'the campaign')
  .option('--unit <unit>', 'only this department’s enterprises not answered')
  .action(async (campaignId: string, opts: { unit?: string }, cmd: Command) =>
    (await questionnaireModule()).questionnaireStatusCommand(campaignId, opts, outputOptions(cmd)),
  );
commandOf(
  questionnaire,
  'chase',
  'raise a task (协助企业填报) to each department whose enterprises have not answered; run again, it raises nothing twice',
)
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--due <datetime>', 'when the tasks are due, e.g. 2026-11-10T18:00')
  .requiredOption('--as <personId>', 'the bureau coordinator')
  .action(async (campaignId: string, opts: { as: string; due: string }, cmd: Command) =>
    (await questionnaireModule()).chaseCommand(campaignId, opts, outputOptions(cmd)),
  );

const visit = program
  .command('visit')
  .description('the evaluator’s site visits and interviews (实地核查、访谈)')
  .exitOverride();
commandOf(
  visit,
  'record',
  'record a site visit or an interview as a verified item of the indicator (a discrepancy is flagged)',
)
  .argument('<campaignId>', 'the campaign')
  .argument('<indicator>', 'the indicator code')
  .addOption(
    new Option('--kind <kind>', 'what it was')
      .choices(['site-visit', 'interview'])
      .makeOptionMandatory(),
  )
  .requiredOption('--date <date>', 'the day, YYYY-MM-DD')
  .requiredOption('--place <text>', 'where (or whom) — the place or the office visited')
  .addOption(
    new Option('--outcome <outcome>', 'the outcome')
      .choices(['confirmed', 'discrepant'])
      .makeOptionMandatory(),
  )
  .option('--note <text>', 'what was found')
  .requiredOption('--as <personId>', 'the evaluator')
  .option('--request-id <id>', 'makes the request idempotent (default: derived from the command)')
  .action(async (campaignId: string, code: string, opts: Record<string, unknown>, cmd: Command) =>
    (await questionnaireModule()).recordVisitCommand(
      campaignId,
      code,
      opts as never,
      outputOptions(cmd),
    ),
  );
commandOf(visit, 'list', "an indicator's verification record: site visits and interviews")
  .argument('<campaignId>', 'the campaign')
  .option('--indicator <code>', 'only this indicator')
  .action(async (campaignId: string, opts: { indicator?: string }, cmd: Command) =>
    (await questionnaireModule()).listVisitsCommand(campaignId, opts, outputOptions(cmd)),
  );

// ---- highlights, typical cases and publicity (突出亮点、典型案例、宣传引导) ----
const highlightsModule = () => import('./commands/highlights.ts');
const highlight = program
  .command('highlight')
  .description(
    'highlights and typical cases (亮点、典型案例): asked for, proposed, selected or returned',
  )
  .exitOverride();
commandOf(
  highlight,
  'request',
  'the bureau asks a department for a highlight or a typical case (a reviewed task for the proposer)',
)
  .argument('<campaignId>', 'the campaign')
  .addOption(
    new Option('--type <type>', 'what is asked for')
      .choices(['highlight', 'case'])
      .makeOptionMandatory(),
  )
  .requiredOption('--unit <unit>', 'the department that proposes')
  .requiredOption('--assignee <personId>', 'the person of that department who proposes')
  .requiredOption('--due <datetime>', 'when the proposal is due, e.g. 2026-11-20T18:00')
  .requiredOption('--as <personId>', "the bureau's coordinator or head")
  .option('--indicator <code>', 'the indicator it is for (otherwise the proposer names one)')
  .option('--title <text>', 'what is asked (default: 报送亮点/典型案例 and the unit)')
  .option('--key <key>', 'a suffix that makes the task id unique')
  .option('--request-id <id>', 'idempotency key (default: derived from the command)')
  .action(async (campaignId: string, opts: Record<string, unknown>, cmd: Command) =>
    (await highlightsModule()).requestHighlightCommand(
      campaignId,
      opts as never,
      outputOptions(cmd),
    ),
  );
commandOf(highlight, 'propose', "the department's person proposes the highlight or typical case")
  .argument(
    '<taskOrCampaignId>',
    'the task the bureau raised for it, or the campaign (with --type) to propose of your own accord',
  )
  .requiredOption('--as <personId>', "the proposer, of the task's department")
  .addOption(
    new Option('--type <type>', 'with a campaign id: what you propose').choices([
      'highlight',
      'case',
    ]),
  )
  .requiredOption('--title <text>', 'the title')
  .requiredOption('--description <text>', 'what was done and what it achieved')
  .requiredOption(
    '--replicable <yesNo>',
    'whether it can be replicated elsewhere: yes or no (是/否)',
  )
  .option('--indicator <code>', "the indicator (default: the task's)")
  .option(
    '--evidence <pathOrUrl>',
    'supporting evidence (repeatable; at least one)',
    (v: string, acc: string[]) => [...acc, v],
    [],
  )
  .option('--note <text>', 'a remark for the reviewer')
  .option('--request-id <id>', 'idempotency key: the same id twice is applied once')
  .action(async (taskId: string, opts: Record<string, unknown>, cmd: Command) =>
    (await highlightsModule()).proposeCommand(taskId, opts as never, outputOptions(cmd)),
  );
commandOf(
  highlight,
  'select',
  'the bureau selects a proposal (approves its task); a typical case only while its indicator has a place',
)
  .argument('<taskId>', 'the task')
  .requiredOption('--as <personId>', "the bureau's coordinator or head")
  .option('--note <text>', 'a remark for the record')
  .option('--request-id <id>', 'idempotency key: the same id twice is applied once')
  .action(async (taskId: string, opts: Record<string, unknown>, cmd: Command) =>
    (await highlightsModule()).decideCommand('select', taskId, opts as never, outputOptions(cmd)),
  );
commandOf(highlight, 'return', 'the bureau returns a proposal for rework, with reasons')
  .argument('<taskId>', 'the task')
  .requiredOption('--as <personId>', "the bureau's coordinator or head")
  .requiredOption('--reason <text>', 'what to rework')
  .option('--request-id <id>', 'idempotency key: the same id twice is applied once')
  .action(async (taskId: string, opts: Record<string, unknown>, cmd: Command) =>
    (await highlightsModule()).decideCommand('return', taskId, opts as never, outputOptions(cmd)),
  );
const publicity = program
  .command('publicity')
  .description("a department's publicity work (宣传引导): TV, web, newspapers, WeChat accounts")
  .exitOverride();
commandOf(publicity, 'add', "a department's person records a publicity item of their department")
  .argument('<campaignId>', 'the campaign')
  .requiredOption('--as <personId>', 'the person recording it, of the department')
  .requiredOption(
    '--channel <channel>',
    'tv, web, newspaper, wechat or other (电视、网站、报纸、微信公众号、其他)',
  )
  .requiredOption('--title <text>', 'the title of the item')
  .requiredOption('--date <date>', 'the publication date, YYYY-MM-DD')
  .option('--unit <unit>', "the department (default: the person's)")
  .option('--link <url>', 'where it can be read or seen (http or https)')
  .option('--reach <n>', 'how many people it reached (views, readers)')
  .action(async (campaignId: string, opts: Record<string, unknown>, cmd: Command) =>
    (await highlightsModule()).publicityAddCommand(campaignId, opts as never, outputOptions(cmd)),
  );
commandOf(
  report,
  'highlights',
  'highlights, typical cases (with the limit per indicator) and publicity',
)
  .argument('<campaignId>', 'the campaign')
  .addOption(formatOption())
  .option('--out <file>', 'write to a file (required for xlsx); never through a symbolic link')
  .option('--force', 'replace the --out file when it exists')
  .action(
    async (
      campaignId: string,
      opts: { format: Format; out?: string; force?: boolean },
      cmd: Command,
    ) => (await highlightsModule()).highlightsReportCommand(campaignId, opts, outputOptions(cmd)),
  );

function wantsJson(): boolean {
  return process.argv.includes('--json');
}

/** A message for people on stderr; the prefix in red when stderr is a terminal. */
function printError(message: string): void {
  process.stderr.write(`${errColour.bad('campaign:')} ${message}\n`);
}

/**
 * Ends the command on an error: a message for people on stderr, and with --json the error as
 * one JSON document on stdout (unless the command printed its own document already), whatever
 * the error was, so that a program reading stdout always gets a document.
 */
/** The output language asked for (--lang), read from the arguments as fail() may run early. */
function wantsLang(): Lang {
  const argv = process.argv.slice(2);
  const i = argv.lastIndexOf('--lang');
  const eq = argv.findLast((a) => a.startsWith('--lang='));
  const v = eq ? eq.slice('--lang='.length) : i >= 0 ? argv[i + 1] : undefined;
  return v === 'en' ? 'en' : 'zh';
}

function fail(e: unknown): void {
  clearProgress();
  const json = wantsJson();
  if (e instanceof CommanderError) {
    // --help and --version print and exit 0; everything else commander rejects is usage.
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (json && e.exitCode !== 0)
      printJson({ error: e.message.replace(/^error: /, ''), exitCode: EXIT.usage, details: null });
    return;
  }
  const f = describeFailure(e, e instanceof ConfigError, wantsLang());
  if (json && !f.printed) printJson({ error: f.message, exitCode: f.exitCode, details: f.details });
  if (!f.printed || !json) printError(f.forPeople);
  process.exitCode = f.exitCode;
}

// An error thrown outside the command's own promise (an event handler, a stray callback) ends
// the command the same way, not with a bare stack trace.
process.on('uncaughtException', (e) => {
  fail(e);
  process.exit();
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
