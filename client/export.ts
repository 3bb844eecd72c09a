// Tabular output in the formats people ask for: a terminal table, Markdown, CSV (with a BOM so
// that Excel opens the Chinese text correctly) and Excel workbooks formatted for printing.
import { writeFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { stringify } from 'csv-stringify/sync';
import { CliError, EXIT } from './errors.ts';
import { table } from './output.ts';

export const FORMATS = ['table', 'md', 'csv', 'xlsx'] as const;
export type Format = (typeof FORMATS)[number];

export interface Sheet {
  title: string;
  columns: { header: string; width?: number }[];
  rows: (string | number | null)[][];
  /** Optional fill per row (ARGB), e.g. for red / yellow / green states. */
  fills?: (string | null)[];
}

function md(sheet: Sheet): string {
  const esc = (v: string | number | null) =>
    String(v ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, '<br>');
  return [
    `## ${sheet.title}`,
    '',
    `| ${sheet.columns.map((c) => esc(c.header)).join(' | ')} |`,
    `| ${sheet.columns.map(() => '---').join(' | ')} |`,
    ...sheet.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ].join('\n');
}

export async function xlsxBuffer(sheets: Sheet[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'county-campaign';
  for (const sheet of sheets) {
    const ws = wb.addWorksheet(sheet.title.slice(0, 31), {
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
      const row = ws.addRow(r.map((v) => (v === null ? '' : v)));
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

/** Columns a text takes in a spreadsheet: CJK and full-width characters count twice. */
function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text)
    w +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(
        ch,
      )
        ? 2
        : 1;
  return w;
}

/** Renders sheets in a format, to `out` when given (required for xlsx), else to stdout. */
export async function emitSheets(sheets: Sheet[], format: Format, out?: string): Promise<void> {
  if (format === 'xlsx') {
    if (!out) throw new CliError('--format xlsx needs --out FILE.xlsx', EXIT.usage);
    await writeFile(out, await xlsxBuffer(sheets));
    process.stderr.write(`wrote ${out}\n`);
    return;
  }
  let text: string;
  if (format === 'md') text = sheets.map(md).join('\n');
  else if (format === 'csv') {
    text = `\uFEFF${sheets.map((s) => stringify([s.columns.map((c) => c.header), ...s.rows.map((r) => r.map((v) => v ?? ''))])).join('\n')}`;
  } else
    text = sheets
      .map(
        (s) =>
          `${s.title}\n${table(
            s.columns.map((c) => c.header),
            s.rows.map((r) => r.map((v) => v ?? '')),
          )}`,
      )
      .join('\n\n');
  if (out) {
    await writeFile(out, text);
    process.stderr.write(`wrote ${out}\n`);
  } else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
