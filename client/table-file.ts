// A list the evaluator or the bureau hands in as a CSV or as an Excel workbook (.xlsx), read as
// one table with a header row: bounded in size (CAMPAIGN_MAX_IMPORT_SIZE), a CSV decoded and
// parsed by domain/imports.ts (UTF-8 or GBK, every line located), a workbook zip-checked before
// exceljs reads it and taken from its first sheet that holds data. Rows keep the number the
// person sees (a CSV's line, a sheet's row), so every problem is located the same way.
import type { CsvTable, RowProblem } from '../domain/imports.ts';
import { cellTextProblem, parseCsvTable } from '../domain/imports.ts';
import { config } from '../worker/config.ts';
import { CliError } from './errors.ts';
import { readBoundedFile } from './files.ts';

export interface TableFile extends CsvTable {
  /** The sheet read, for a workbook. */
  sheet?: string;
}

export type TableFileResult = { table: TableFile } | { problems: RowProblem[]; sheet?: string };

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** A cell as text: a date as YYYY-MM-DD (its calendar day as Excel shows it), a formula by its saved value. */
function cellText(v: unknown): string | { error: string } {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText))
      return (o.richText as { text?: unknown }[]).map((t) => String(t.text ?? '')).join('');
    if ('formula' in o || 'sharedFormula' in o) {
      if (o.result === undefined || o.result === null || typeof o.result === 'object')
        return o.result instanceof Date
          ? o.result.toISOString().slice(0, 10)
          : { error: 'a formula without a saved value: type the value instead' };
      return String(o.result);
    }
    if ('hyperlink' in o) return typeof o.text === 'string' ? o.text : String(o.hyperlink);
    if ('error' in o) return { error: `an error value (${String(o.error)})` };
  }
  return { error: 'a cell that cannot be read' };
}

/** Reads an .xlsx's first sheet with data as a table; problems at their row and column. */
export async function parseXlsxTable(bytes: Buffer, what: string): Promise<TableFileResult> {
  const { openWorkbook } = await import('./workbook.ts');
  const opened = await openWorkbook(bytes);
  if ('problem' in opened) return { problems: [{ line: 1, message: `${what} ${opened.problem}` }] };
  const { wb } = opened;
  const ws = wb.worksheets.find((s) => s.actualRowCount > 0);
  if (!ws) return { problems: [{ line: 1, message: `${what} is empty (no sheet holds data)` }] };
  if (ws.rowCount > 100_000 || ws.columnCount > 100)
    return {
      sheet: ws.name,
      problems: [
        {
          line: 1,
          message: `${what}: sheet ${ws.name} is too large (at most 100000 rows and 100 columns)`,
        },
      ],
    };
  const problems: RowProblem[] = [];
  const merged = (ws.model as { merges?: string[] }).merges ?? [];
  if (merged.length)
    problems.push({
      line: 1,
      message: `sheet ${ws.name} has merged cells (${merged.slice(0, 3).join(', ')}): unmerge them, one value per cell`,
    });
  let header: string[] | undefined;
  let headerLine = 1;
  const rows: TableFile['rows'] = [];
  ws.eachRow({ includeEmpty: false }, (row, n) => {
    const cells: string[] = [];
    for (let c = 1; c <= ws.columnCount; c++) {
      const v = cellText(row.getCell(c).value);
      if (typeof v === 'object') {
        problems.push({ line: n, column: c, message: `${v.error}` });
        cells.push('');
      } else cells.push(v.trim());
    }
    if (cells.every((v) => v === '')) return;
    const bad = cellTextProblem(cells, n);
    if (bad) {
      problems.push(bad);
      return;
    }
    if (!header) {
      header = cells;
      headerLine = n;
      return;
    }
    const values: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h !== '' && !Object.hasOwn(values, h)) values[h] = cells[i] ?? '';
    });
    rows.push({ line: n, values });
  });
  if (problems.length) return { sheet: ws.name, problems };
  if (!header) return { sheet: ws.name, problems: [{ line: 1, message: `${what} is empty` }] };
  if (!rows.length)
    return {
      sheet: ws.name,
      problems: [
        { line: headerLine, message: `${what} has a header but no data rows: nothing to import` },
      ],
    };
  return { table: { header, headerLine, rows, encoding: 'utf-8', sheet: ws.name } };
}

/** The file as a table, CSV or xlsx by its content; refused when it cannot be read at all. */
export async function readTableFile(file: string, what: string): Promise<TableFileResult> {
  const read = await readBoundedFile(file, config().limits.importBytes, 'CAMPAIGN_MAX_IMPORT_SIZE');
  if ('problem' in read)
    throw new CliError(read.problem.replace(/^cannot read /, `cannot read ${what} `));
  if (isZip(read.bytes) || /\.xlsx$/i.test(file))
    return parseXlsxTable(read.bytes, `${file} (${what})`);
  return parseCsvTable(read.bytes, `${file} (${what})`);
}

/** `line 4, column 2` for a CSV; `sheet S row 4, column 2` for a workbook. */
export function placeOf(p: RowProblem, sheet?: string): string {
  const col = p.column !== undefined ? `, column ${p.column}` : '';
  return sheet ? `sheet ${sheet} row ${p.line}${col}` : `line ${p.line}${col}`;
}
