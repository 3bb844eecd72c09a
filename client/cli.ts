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
