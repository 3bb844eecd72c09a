// `campaign template [--from <definition>] --out 任务分工表.xlsx` and
// `campaign import-workbook <file.xlsx> --out campaign.yaml`: the division-of-labour workbook
// the county office fills in, to and from a campaign definition.
import { stringify } from 'yaml';
import { isWorkbookFile, loadDefinitionFile } from '../definition-file.ts';
import { CliError, EXIT } from '../errors.ts';
import { writeNewFile } from '../files.ts';
import {
  colour,
  errColour,
  noColour,
  printJson,
  t,
  type OutputOptions,
  type Palette,
} from '../output.ts';
import { problemPlace, templateWorkbook, type WorkbookProblem } from '../workbook.ts';
import { requireValidDefinition } from './definition.ts';

export function workbookProblemLines(
  file: string,
  problems: WorkbookProblem[],
  c: Palette,
): string {
  return problems
    .map((p) =>
      p.sheet
        ? `  ${c.dim(file)}  ${c.bold(problemPlace(p))}  ${p.message}${p.path.includes('!') ? '' : c.dim(`  (${p.path})`)}`
        : `  ${c.dim(file)}  ${c.bold(p.path)}  ${p.message}`,
    )
    .join('\n');
}

export async function templateCommand(
  opts: { from?: string; out?: string; force?: boolean },
  out: OutputOptions,
): Promise<void> {
  if (!opts.out)
    throw new CliError('give the workbook to write with --out 任务分工表.xlsx', EXIT.usage);
  if (!isWorkbookFile(opts.out))
    throw new CliError(
      `--out ${opts.out}: the template is an Excel workbook; name it ….xlsx`,
      EXIT.usage,
    );
  const def = opts.from ? (await requireValidDefinition(opts.from)).definition : undefined;
  const bytes = await templateWorkbook(def);
  await writeNewFile(opts.out, bytes, { force: opts.force });
  if (out.json) {
    printJson({ file: opts.out, from: opts.from ?? null, bytes: bytes.length });
    return;
  }
  console.log(
    `${colour.ok('✓')} ${opts.out}: ${
      def
        ? t(
            out.lang,
            `已按 ${opts.from} 填好（${def.units.length} 个单位，${def.indicators.length} 项指标）`,
            `filled from ${opts.from}`,
          )
        : t(
            out.lang,
            '空白任务分工表（每张表有一行示例，请改写或删除）',
            'an empty workbook with an example row in each table',
          )
    }`,
  );
}

export async function importWorkbookCommand(
  file: string,
  opts: { out?: string; force?: boolean },
  out: OutputOptions,
): Promise<void> {
  if (!isWorkbookFile(file))
    throw new CliError(`${file}: import-workbook reads an Excel workbook (.xlsx)`, EXIT.usage);
  const r = await loadDefinitionFile(file);
  if (!r.valid || !r.definition) {
    const errors = r.errors as WorkbookProblem[];
    if (out.json) printJson({ valid: false, file, errors, warnings: r.warnings });
    else {
      console.error(
        `${errColour.bad('✗')} ${file}: ${t(out.lang, `发现 ${errors.length} 处错误`, `${errors.length} problem(s)`)}`,
      );
      console.error(workbookProblemLines(file, errors, errColour));
    }
    process.exitCode = EXIT.refused;
    return;
  }
  const yaml = `# ${r.definition.campaign.name} — imported from ${file.split('/').pop()}\n${stringify(r.definition, { lineWidth: 0 })}`;
  if (opts.out) await writeNewFile(opts.out, yaml, { force: opts.force });
  if (out.json)
    printJson({
      valid: true,
      file,
      out: opts.out ?? null,
      summary: r.summary,
      warnings: r.warnings,
    });
  else if (opts.out)
    console.log(
      `${colour.ok('✓')} ${opts.out}: ${r.definition.campaign.name} — ${t(out.lang, `${r.definition.units.length} 个单位，${r.definition.indicators.length} 项指标`, `${r.definition.units.length} units, ${r.definition.indicators.length} indicators`)}`,
    );
  else process.stdout.write(yaml);
  if (r.warnings.length && !out.json)
    console.error(workbookProblemLines(file, r.warnings as WorkbookProblem[], noColour));
}
