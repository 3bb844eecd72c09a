// The `campaign` command: the bureau's and the departments' way into the engine.
// Exit codes: 0 done, 1 refused or invalid, 2 usage error, 3 a service is unreachable.
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../worker/config.ts';
import { CliError, EXIT } from './errors.ts';
import { printJson, type Lang, type OutputOptions } from './output.ts';

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
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

function outputOptions(cmd: Command): OutputOptions {
  const o = cmd.optsWithGlobals<{ json?: boolean; lang?: Lang }>();
  return { json: o.json === true, lang: o.lang ?? 'zh' };
}

/** Every subcommand accepts --json/--lang too, wherever they are written. */
function sub(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(new Option('--json', 'print one JSON document on stdout (for programs)'))
    .addOption(new Option('--lang <lang>', 'language of human output').choices(['zh', 'en']))
    .exitOverride();
}

sub('validate', 'check a campaign definition (YAML or JSON) and list every problem with its path')
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
  .action(async (opts: { timeout: number }, cmd: Command) =>
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
  return task
    .command(name)
    .description(description)
    .addOption(new Option('--json', 'print one JSON document on stdout (for programs)'))
    .addOption(new Option('--lang <lang>', 'language of human output').choices(['zh', 'en']))
    .exitOverride();
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
  .requiredOption('--file <definition>', 'the campaign definition (roster, policy, calendar)')
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
  .action(async (opts: Record<string, unknown>, cmd: Command) =>
    (await tasksModule()).createTaskCommand(opts as never, outputOptions(cmd)),
  );

function wantsJson(): boolean {
  return process.argv.includes('--json');
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version print and exit 0; everything else commander rejects is usage.
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (e instanceof CliError) {
    const details = e.details as { printed?: boolean } | undefined;
    if (wantsJson() && !details?.printed)
      printJson({ error: e.message, exitCode: e.exitCode, details: e.details ?? null });
    if (!details?.printed || !wantsJson()) process.stderr.write(`campaign: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if (e instanceof ConfigError) {
    process.stderr.write(`campaign: ${e.message}\n`);
    process.exitCode = EXIT.refused;
  } else {
    process.stderr.write(
      `campaign: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = EXIT.refused;
  }
}
