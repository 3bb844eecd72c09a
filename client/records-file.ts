// A unit's record list (办件台账) read from its file: a CSV (domain/imports.ts: encoding
// detection, physical lines, quotes) or an Excel workbook (the zip bounded first, as the
// division-of-labour workbook is, then its sheet read cell by cell). Either way the rows come
// out with where they are (line, or sheet and row), and every problem is located and written
// in Chinese and English.
import type ExcelJSNs from 'exceljs';
import { parseCsvTable } from '../domain/imports.ts';
import {
  checkRecordRows,
  MAX_RECORDS,
  recordHeader,
  type BusinessRecord,
  type LocatedRow,
  type RecordProblem,
} from '../domain/records.ts';
import { WORKBOOK_LIMITS, openWorkbook } from './workbook.ts';

export interface RecordList {
  format: 'csv' | 'xlsx';
  encoding: string | null;
  records: BusinessRecord[];
}

export type RecordListResult = { list: RecordList } | { problems: RecordProblem[] };

/** The sheet read from a workbook: this one when it exists, else the first. */
export const RECORD_SHEET = '办件台账';

/** A record list's workbook: one sheet of up to MAX_RECORDS rows is read. */
const RECORD_WORKBOOK_LIMITS = {
  ...WORKBOOK_LIMITS,
  rowsPerSheet: MAX_RECORDS + 1,
  columnsPerSheet: 60,
};

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** Reads and checks a record list; `what` names the file in messages. */
export async function readRecordList(bytes: Buffer, what: string): Promise<RecordListResult> {
  if (isZip(bytes)) return readRecordWorkbook(bytes, what);
  const parsed = await parseCsvTable(bytes, what);
  if ('problems' in parsed)
    return {
      problems: parsed.problems.map((p) => ({
        line: p.line,
        ...(p.column !== undefined ? { column: p.column } : {}),
        message: p.message,
        zh: csvProblemZh(p.message),
      })),
    };
  const { header, headerLine, rows, encoding } = parsed.table;
  const h = recordHeader(header, headerLine);
  if (h.problem) return { problems: [h.problem] };
  const checked = checkRecordRows(header, rows, h.columns);
  if (checked.problems.length) return { problems: checked.problems };
  return { list: { format: 'csv', encoding, records: checked.records } };
}

/** The Chinese of the CSV reader's messages (domain/imports.ts writes them in English). */
function csvProblemZh(en: string): string {
  let m: RegExpExecArray | null;
  if (/quote \("\) opened on this line is never closed/.test(en))
    return '本行开始的引号（"）没有闭合';
  if (/a record longer than/.test(en)) return '本行开始的记录过长：很可能是引号（"）没有闭合';
  if (/goes on after its closing quote/.test(en))
    return '带引号的字段在闭合引号之后还有内容；字段中的引号请写成 ""';
  if ((m = /^(\d+) field\(s\) where the header has (\d+)/.exec(en)))
    return `本行有 ${m[1]} 个字段，表头有 ${m[2]} 列；值中含逗号时请用引号括起来`;
  if ((m = /the header names the column "(.*)" twice \(columns (\d+) and (\d+)\)/.exec(en)))
    return `表头中列名“${m[1]}”出现两次（第 ${m[2]} 列和第 ${m[3]} 列）`;
  if (/is empty \(no header, no data\)/.test(en)) return '文件为空（没有表头，也没有数据）';
  if (/has a header but no data lines/.test(en))
    return '文件只有表头，没有数据行：没有可导入的记录';
  if (/UTF-16/.test(en)) return '文件是 UTF-16 文本（Excel 的“Unicode 文本”）：请另存为 CSV UTF-8';
  if (/NUL byte/.test(en)) return '文件含有 NUL 字节：这是二进制文件，不是文本';
  if (/UTF-8|GB18030|GBK|encoding/i.test(en))
    return `文件编码无法识别（应为 UTF-8 或 GBK/GB18030）：${en}`;
  return `无法按 CSV 读取：${en}`;
}

type Cell = string | { problem: { en: string; zh: string; value: string } };

/** A cell as text: numbers as written, dates as YYYY-MM-DD, formulas by their saved value. */
function cellText(cell: ExcelJSNs.Cell): Cell {
  const v = cell.value as unknown;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return dateText(v);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText))
      return (o.richText as { text?: unknown }[])
        .map((t) => String(t.text ?? ''))
        .join('')
        .trim();
    if ('formula' in o || 'sharedFormula' in o) {
      const res = o.result;
      if (typeof res === 'string') return res.trim();
      if (typeof res === 'number' || typeof res === 'boolean') return String(res);
      if (res instanceof Date) return dateText(res);
      return {
        problem: {
          value: `=${String(o.formula ?? o.sharedFormula)}`,
          en: 'the cell is a formula without a saved value: type the value instead',
          zh: '单元格是公式且没有计算结果：请填入数值或文字，不要用公式',
        },
      };
    }
    if ('hyperlink' in o) return typeof o.text === 'string' ? o.text.trim() : String(o.hyperlink);
    if ('error' in o)
      return {
        problem: {
          value: String(o.error),
          en: 'the cell holds an error value (such as #REF! or #N/A)',
          zh: '单元格是错误值（如 #REF!、#N/A）：请填入正确的内容',
        },
      };
  }
  return {
    problem: { value: String(v), en: 'the cell cannot be read', zh: '无法识别的单元格内容' },
  };
}

/** Excel keeps dates as days; exceljs gives them as UTC midnights. */
const dateText = (d: Date) => d.toISOString().slice(0, 10);

const colLetter = (n: number): string => {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26))
    s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
};

async function readRecordWorkbook(bytes: Buffer, what: string): Promise<RecordListResult> {
  const file = (en: string, zh: string): RecordListResult => ({
    problems: [{ line: 1, message: `${what} ${en}`, zh: `${what}：${zh}` }],
  });
  const opened = await openWorkbook(bytes, RECORD_WORKBOOK_LIMITS);
  if ('problem' in opened)
    return file(opened.problem, `不是可读取的 Excel 工作簿（${opened.problem}）`);
  const { wb } = opened;
  if (wb.worksheets.length > RECORD_WORKBOOK_LIMITS.sheets)
    return file(
      `has ${wb.worksheets.length} sheets (at most ${RECORD_WORKBOOK_LIMITS.sheets} are read)`,
      `有 ${wb.worksheets.length} 张工作表（最多读取 ${RECORD_WORKBOOK_LIMITS.sheets} 张）`,
    );
  const ws = wb.getWorksheet(RECORD_SHEET) ?? wb.worksheets[0];
  if (!ws) return file('has no sheet', '没有工作表');
  const sheet = ws.name;
  if (
    ws.rowCount > RECORD_WORKBOOK_LIMITS.rowsPerSheet ||
    ws.columnCount > RECORD_WORKBOOK_LIMITS.columnsPerSheet
  )
    return {
      problems: [
        {
          line: Math.min(ws.rowCount, RECORD_WORKBOOK_LIMITS.rowsPerSheet + 1),
          sheet,
          message: `sheet ${sheet} has ${ws.rowCount} rows and ${ws.columnCount} columns; a record list has at most ${MAX_RECORDS} records and ${RECORD_WORKBOOK_LIMITS.columnsPerSheet} columns`,
          zh: `工作表 ${sheet} 有 ${ws.rowCount} 行、${ws.columnCount} 列；办件台账最多 ${MAX_RECORDS} 条记录、${RECORD_WORKBOOK_LIMITS.columnsPerSheet} 列`,
        },
      ],
    };
  const problems: RecordProblem[] = [];
  // A merged range hides which row a value belongs to: refused where it starts.
  for (const m of (ws.model as { merges?: string[] }).merges ?? []) {
    const first = ws.getCell(m.split(':')[0] ?? m);
    problems.push({
      line: Number(first.row),
      sheet,
      column: Number(first.col),
      value: m,
      message: `cells ${m} are merged: write the value in every row`,
      zh: `单元格 ${m} 是合并单元格：请在每一行分别填写`,
    });
  }
  let header: string[] | undefined;
  let headerLine = 1;
  const rows: LocatedRow[] = [];
  ws.eachRow({ includeEmpty: false }, (row, n) => {
    const cells: string[] = [];
    for (let c = 1; c <= ws.columnCount; c++) {
      const t = cellText(row.getCell(c));
      if (typeof t === 'string') cells[c - 1] = t;
      else {
        cells[c - 1] = '';
        problems.push({
          line: n,
          sheet,
          column: c,
          ...(header?.[c - 1] ? { heading: header[c - 1] } : {}),
          value: t.problem.value,
          message: `${t.problem.en} (cell ${colLetter(c)}${n})`,
          zh: `${t.problem.zh}（单元格 ${colLetter(c)}${n}）`,
        });
      }
    }
    if (cells.every((v) => !v)) return;
    if (!header) {
      header = cells.map((v) => v ?? '');
      headerLine = n;
      const seen = new Map<string, number>();
      header.forEach((h, i) => {
        if (!h) return;
        if (seen.has(h))
          problems.push({
            line: n,
            sheet,
            column: i + 1,
            heading: h,
            message: `the header names the column "${h}" twice (columns ${seen.get(h)! + 1} and ${i + 1})`,
            zh: `表头中列名“${h}”出现两次（第 ${seen.get(h)! + 1} 列和第 ${i + 1} 列）`,
          });
        else seen.set(h, i);
      });
      return;
    }
    const values: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h && !Object.hasOwn(values, h)) values[h] = cells[i] ?? '';
    });
    rows.push({ line: n, sheet, values });
  });
  if (!header)
    return {
      problems: [
        {
          line: 1,
          sheet,
          message: `${what} is empty (sheet ${sheet} has no header, no data)`,
          zh: `${what}为空（工作表 ${sheet} 没有表头，也没有数据）`,
        },
      ],
    };
  const h = recordHeader(header, headerLine, sheet);
  if (h.problem) return { problems: [...problems, h.problem] };
  if (!rows.length && !problems.length)
    return {
      problems: [
        {
          line: headerLine,
          sheet,
          message: `${what} has a header but no data rows: nothing to import`,
          zh: `${what}只有表头，没有数据行：没有可导入的记录`,
        },
      ],
    };
  const checked = checkRecordRows(header, rows, h.columns);
  // A cell already refused (an error value, a formula without a value) is not refused again
  // by the check of its field.
  const cells = new Set(problems.map((p) => `${p.line}:${p.column}`));
  const all = [
    ...problems,
    ...checked.problems.filter((p) => !cells.has(`${p.line}:${p.column}`)),
  ].sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0));
  if (all.length) return { problems: all };
  return { list: { format: 'xlsx', encoding: null, records: checked.records } };
}
