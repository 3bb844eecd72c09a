// Tabular output in the formats people ask for: a terminal table, Markdown, CSV (with a BOM so
// that Excel opens the Chinese text correctly) and Excel workbooks formatted for printing.
// The cells hold departments' own text, so no format lets that text attack its reader: CSV
// cells that a spreadsheet would take for a formula are neutralised, Markdown is escaped,
// workbook cells are typed strings and sheet names are cleaned.
import { stringify } from 'csv-stringify/sync';
import { CliError, EXIT } from './errors.ts';
import { writeNewFile } from './files.ts';
import { t, table, type Format, type Lang } from './output.ts';
import { createProgress, withProgress, type Progress } from './progress.ts';
import { displayWidth } from './text-width.ts';

export { FORMATS, type Format } from './output.ts';

export interface Sheet {
  title: string;
  columns: { header: string; width?: number }[];
  rows: (string | number | null)[][];
  /** Optional fill per row (ARGB), e.g. for red / yellow / green states. */
  fills?: (string | null)[];
}

/**
 * A CSV cell as spreadsheet programs will not run it: text starting with = + - @, a tab or a
 * carriage return gets a leading single quote (OWASP's advice against formula injection), so
 * `=HYPERLINK(…)` shows as text in Excel, WPS and LibreOffice. Numbers stay numbers.
 */
export function csvCell(v: string | number | null): string | number {
  if (v === null) return '';
  if (typeof v === 'number') return v;
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/**
 * Text for a Markdown table cell: Markdown and HTML have no effect (a department's `<img>` or
 * `[link](…)` is shown, not rendered), a pipe does not end the cell, a line break is `<br>`.
 */
export function mdCell(v: string | number | null): string {
  return String(v ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|#~!]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, '<br>');
}

/**
 * A worksheet name Excel accepts: without / ? * [ ] : \\, not starting or ending with an
 * apostrophe, at most 31 characters, not empty and unique in the workbook (case aside).
 */
export function sheetName(title: string, taken: ReadonlySet<string> = new Set()): string {
  const clean = title
    .replace(/[/?*[\]:\\]/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^'+|'+$/g, '');
  const cut = (s: string, n: number) => Array.from(s).slice(0, n).join('').trim();
  let name = cut(clean, 31) || 'Sheet';
  for (let i = 2; taken.has(name.toLowerCase()); i++)
    name = `${cut(clean, 31 - `${i}`.length - 1)}-${i}`;
  return name;
}

function md(sheet: Sheet): string {
  const esc = mdCell;
  return [
    `## ${esc(sheet.title)}`,
    '',
    `| ${sheet.columns.map((c) => esc(c.header)).join(' | ')} |`,
    `| ${sheet.columns.map(() => '---').join(' | ')} |`,
    ...sheet.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ].join('\n');
}

/** An Excel workbook of the sheets; `progress` advances per row, then while the file is packed. */
export async function xlsxBuffer(sheets: Sheet[], progress?: Progress): Promise<Buffer> {
  // exceljs is large: loaded only when a workbook is written.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'county-campaign';
  const taken = new Set<string>();
  for (const sheet of sheets) {
    const name = sheetName(sheet.title, taken);
    taken.add(name.toLowerCase());
    const ws = wb.addWorksheet(name, {
      views: [{ state: 'frozen', ySplit: 1 }],
      pageSetup: {
        orientation: 'landscape',
        fitToPage: true,
        fitToWidth: 1,
        fitToHeight: 0,
        paperSize: 9,
      },
    });
    ws.columns = sheet.columns.map((c) => ({
      header: c.header,
      width: c.width ?? Math.max(10, c.header.length * 2 + 4),
    }));
    ws.getRow(1).font = { bold: true };
    ws.getRow(1).alignment = { vertical: 'middle', horizontal: 'center', wrapText: true };
    ws.pageSetup.printTitlesRow = '1:1';
    const widths = sheet.columns.map((c) => c.width ?? Math.max(10, c.header.length * 2 + 4));
    sheet.rows.forEach((r, i) => {
      // Plain strings and numbers only: ExcelJS writes a string as a typed text cell, never as
      // a formula, so `=HYPERLINK(…)` from a department stays text.
      const row = ws.addRow(
        r.map((v) => (v === null ? '' : typeof v === 'number' ? v : String(v))),
      );
      row.alignment = { vertical: 'top', wrapText: true };
      // Spreadsheet programs do not grow wrapped rows by themselves when the file sets no
      // height: give each row the lines its longest cell needs (CJK characters are two wide).
      const lines = Math.max(
        1,
        ...r.map((v, c) =>
          String(v ?? '')
            .split('\n')
            .reduce(
              (n, part) =>
                n + Math.max(1, Math.ceil(displayWidth(part) / Math.max(1, (widths[c] ?? 10) - 1))),
              0,
            ),
        ),
      );
      row.height = 15 * lines + 3;
      const fill = sheet.fills?.[i];
      if (fill)
        row.eachCell(
          (cell) => (cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: fill } }),
        );
      progress?.tick();
    });
    ws.eachRow((row) =>
      row.eachCell(
        (cell) =>
          (cell.border = {
            top: { style: 'thin' },
            left: { style: 'thin' },
            bottom: { style: 'thin' },
            right: { style: 'thin' },
          }),
      ),
    );
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const FORMAT_NAME: Record<Format, [string, string]> = {
  table: ['表格', 'the table'],
  md: ['Markdown', 'Markdown'],
  csv: ['CSV', 'CSV'],
  xlsx: ['Excel 工作簿', 'the Excel workbook'],
};

/**
 * Renders sheets in a format, to `out` when given (required for xlsx), else to stdout, with a
 * progress line on stderr (on a terminal, not with --json) while the rows are rendered.
 */
export async function emitSheets(
  sheets: Sheet[],
  format: Format,
  out?: string,
  how: { lang?: Lang; json?: boolean; force?: boolean | undefined } = {},
): Promise<void> {
  const lang = how.lang ?? 'zh';
  if (format === 'xlsx' && !out)
    throw new CliError('--format xlsx needs --out FILE.xlsx', EXIT.usage);
  const total = sheets.reduce((n, s) => n + s.rows.length, 0);
  const [zh, en] = FORMAT_NAME[format];
  const text = await withProgress(
    {
      label: t(lang, `生成${zh}`, `rendering ${en}`),
      total,
      unit: t(lang, '行', 'rows'),
      json: how.json,
    },
    async (progress): Promise<string> => {
      if (format === 'xlsx') {
        const buffer = await xlsxBuffer(sheets, progress);
        progress.detail(t(lang, `写入 ${out}`, `writing ${out}`));
        await writeNewFile(out!, buffer, { force: how.force });
        return '';
      }
      const text = render(sheets, format, progress);
      if (out) {
        progress.detail(t(lang, `写入 ${out}`, `writing ${out}`));
        await writeNewFile(out, text, { force: how.force });
      }
      return text;
    },
  );
  if (out) process.stderr.write(`${t(lang, `已写入 ${out}`, `wrote ${out}`)}\n`);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** CSV text of the sheets (with a BOM, so that Excel reads the Chinese right). */
export function csvText(sheets: Sheet[]): string {
  return render(sheets, 'csv', createProgress({ label: 'csv', json: true }));
}

function render(sheets: Sheet[], format: Exclude<Format, 'xlsx'>, progress: Progress): string {
  const done = (text: string, s: Sheet) => {
    progress.tick(s.rows.length);
    return text;
  };
  if (format === 'md') return sheets.map((s) => done(md(s), s)).join('\n');
  if (format === 'csv')
    return `\uFEFF${sheets
      .map((s) =>
        done(
          stringify([
            s.columns.map((c) => csvCell(c.header)),
            ...s.rows.map((r) => r.map(csvCell)),
          ]),
          s,
        ),
      )
      .join('\n')}`;
  return sheets
    .map((s) =>
      done(
        `${s.title}\n${table(
          s.columns.map((c) => c.header),
          s.rows.map((r) => r.map((v) => v ?? '')),
        )}`,
        s,
      ),
    )
    .join('\n\n');
}
