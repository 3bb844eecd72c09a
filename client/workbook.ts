// The division of labour as the county office keeps it (任务分工表): an Excel workbook with one
// sheet per part of the campaign definition, Chinese headings and drop-down lists. `template`
// writes one (empty with an example row, or filled from a definition); `readWorkbook` turns a
// filled one back into a definition, or lists every mistake by sheet, row, column heading and
// cell value. A workbook is a zip of XML written by anyone: its size, its uncompressed size, its
// sheets, rows and columns are bounded before exceljs builds it in memory, and every odd cell
// (a merged range, a formula, an error value, a date typed as text) is a located problem.
import { inflateRawSync } from 'node:zlib';
import type ExcelJSNs from 'exceljs';
import type { FIELD_TYPES, RECIPIENTS, ROLES, UNIT_KINDS } from '../domain/definition.ts';
import { PHASES, type CampaignDefinition, type Delay } from '../domain/definition.ts';
import { describeFault, LONG_TEXT_MAX, quoteForMessage, textFault } from '../domain/text.ts';
import { validateDefinition, type DefinitionProblem } from '../domain/validate.ts';
import { parseDurationMs } from '../domain/time.ts';

type Workbook = ExcelJSNs.Workbook;
type Worksheet = ExcelJSNs.Worksheet;
type CellValue = string | number | boolean | Date | null;

/** A workbook mistake, where the person finds it in Excel. */
export interface WorkbookProblem extends DefinitionProblem {
  sheet?: string;
  row?: number;
  column?: string;
  value?: string;
}

// ---- limits ----

/** A division-of-labour workbook for 200 units and 100 indicators is well under these. */
export const WORKBOOK_LIMITS = {
  /** Uncompressed bytes of all the zip's entries together (a zip bomb expands far more). */
  uncompressedBytes: 50 * 1024 * 1024,
  entries: 500,
  sheets: 20,
  rowsPerSheet: 5000,
  columnsPerSheet: 40,
};

// ---- the vocabulary: Chinese labels for the values a cell takes ----

const KIND_ZH: Record<(typeof UNIT_KINDS)[number], string> = {
  bureau: '牵头部门',
  department: '责任单位',
  evaluator: '第三方评价机构',
  leadership: '县领导',
};
const ROLE_ZH: Record<(typeof ROLES)[number], string> = {
  head: '主要负责人',
  deputy: '分管负责人',
  staff: '工作人员',
  coordinator: '统筹协调人',
  evaluator: '核验员',
  leader: '县领导',
};
const FIELD_TYPE_ZH: Record<(typeof FIELD_TYPES)[number], string> = {
  integer: '整数',
  number: '数值',
  percent: '百分比',
  text: '文本',
  boolean: '是否',
  date: '日期',
  enum: '选项',
};
const PHASE_ZH: Record<(typeof PHASES)[number], string> = {
  training: '前期培训',
  dataEntry: '数据填报',
  verification: '信息核验',
  reporting: '编制报告',
};
const RECIPIENT_ZH: Record<(typeof RECIPIENTS)[number], string> = {
  assignee: '经办人',
  staff: '工作人员',
  deputy: '分管负责人',
  head: '主要负责人',
  bureau: '牵头部门',
  leadership: '县领导',
};
const APPROVER_ZH: Record<'bureau' | 'deputy' | 'head', string> = {
  bureau: '牵头部门',
  deputy: '分管负责人',
  head: '主要负责人',
};
const CHANNEL_TYPES = ['console', 'webhook', 'wecom', 'dingtalk'] as const;
const YES = '是';
const NO = '否';

function reverse<K extends string>(m: Record<K, string>): Map<string, K> {
  const out = new Map<string, K>();
  for (const [k, v] of Object.entries(m) as [K, string][]) {
    out.set(v, k);
    out.set(k, k);
  }
  return out;
}

// ---- the sheets ----

export const SHEETS = {
  campaign: '活动',
  units: '单位与人员',
  indicators: '指标分工',
  fields: '问卷字段',
  phases: '阶段',
  policy: '督办与整改',
  escalation: '督办梯度',
  channels: '通知渠道',
} as const;

const UNIT_COLS = [
  '单位编号',
  '单位名称',
  '单位类型',
  '人员编号',
  '姓名',
  '角色',
  '职务',
  '电话',
  '企业微信账号',
];
const IND_COLS = [
  '指标编号',
  '指标名称',
  '英文名称',
  '牵头单位',
  '配合单位',
  '领队',
  '填报人员',
  '填报指引',
  '佐证材料清单',
];
const FIELD_COLS = [
  '指标编号',
  '字段键',
  '字段名称',
  '类型',
  '必填',
  '计量单位',
  '最小值',
  '最大值',
  '可选项',
  '填报说明',
];
const PHASE_COLS = ['阶段', '开始', '结束'];
const ESC_COLS = ['级别', '间隔', '通知对象', '名称'];
const CHANNEL_COLS = [
  '类型',
  '编号',
  '地址',
  '签名密钥',
  '请求头',
  '密钥名称',
  '签名密钥名称',
  '密钥请求头',
];
const KV_COLS = ['项目', '值', '说明'];

/** The key/value rows of the 活动 sheet: label, path in the definition, help. */
const CAMPAIGN_KEYS = [
  ['活动编号', 'campaign.id', '小写字母、数字和短横线，如 hx-2026'],
  ['活动名称', 'campaign.name', ''],
  ['县（区）', 'campaign.county', ''],
  ['年度', 'campaign.year', '如 2026'],
  ['时区', 'campaign.timeZone', '默认 Asia/Shanghai'],
  ['说明', 'campaign.description', ''],
  ['采用国家法定节假日', 'calendar.chineseHolidays', '是 / 否'],
  ['上班时间', 'calendar.workdayStart', 'HH:mm，如 09:00'],
  ['下班时间', 'calendar.workdayEnd', 'HH:mm，如 18:00'],
  ['另行放假日期', 'calendar.holidays', '日期，多个用顿号或换行分隔'],
  ['调休上班日期', 'calendar.workdays', '日期，多个用顿号或换行分隔'],
  ['每日调度时间', 'dispatch.at', 'HH:mm，如 17:30'],
  ['调度接收单位', 'dispatch.recipients', '单位编号，多个用顿号分隔；留空为牵头部门和县领导'],
] as const;

const POLICY_KEYS = [
  ['到期前提醒', 'policy.reminders', 'ISO 时长，如 P3D、P1D、PT2H，用顿号分隔'],
  ['黄灯预警窗口', 'policy.warningWindow', 'ISO 时长，如 P1D'],
  ['退回后期限', 'policy.returnDue', '如 2工作日 或 P2D'],
  ['延期审批', 'policy.extensionApprovers', '牵头部门、分管负责人、主要负责人'],
  ['最多延期次数', 'policy.maxExtensions', ''],
  ['每日填报指标数', 'phases.dataEntry.indicatorsPerDay', ''],
  ['演练时段', 'phases.dataEntry.slot', '演练用：每组指标的时段，如 PT10M；正式活动留空'],
  ['填报顺序', 'phases.dataEntry.order', '指标编号，用顿号分隔；留空按指标分工表的顺序'],
  ['佐证材料期限', 'phases.verification.evidenceDue', '如 3工作日'],
  ['抽样比例', 'phases.verification.samplingProportion', '如 0.05'],
  ['整改触发分数（低于）', 'rectification.triggers.scoreBelow', '0–100'],
  ['整改触发名次（倒数）', 'rectification.triggers.rankBottom', '如 3'],
  ['整改步骤期限', 'rectification.stepDue', '如 5工作日'],
  ['整改措施期限', 'rectification.measureDue', '如 20工作日'],
  ['整改进度报告间隔', 'rectification.progressEvery', 'ISO 时长，如 P7D'],
  ['考核基础分', 'assessment.base', '考核各单位的起始分，默认 100；本组留空按默认'],
  ['逾期每工作日扣分', 'assessment.perWorkingDayLate', '默认 0.5'],
  ['每级督办扣分', 'assessment.perEscalationLevel', '督办到第 2 级扣两倍，默认 1'],
  ['每次退回扣分', 'assessment.perReturn', '默认 0.5'],
  ['核验不实扣分', 'assessment.perDiscrepancy', '每项核验不实扣牵头单位，默认 5'],
  ['未完成培训扣分', 'assessment.trainingNotDone', '每项培训任务，默认 2'],
  ['名次加分', 'assessment.rankBonuses', '牵头指标的名次加分，如 前3名加3分、前10名加1分'],
  ['扣分上限', 'assessment.cap', '一个单位最多扣这么多分，默认 30'],
  ['每个指标典型案例上限', 'highlights.maxTypicalCasesPerIndicator', '默认 10'],
] as const;

/** A rank band as the workbook writes it: 前3名加3分. */
const bandText = (b: { rankAtMost: number; points: number }) =>
  `前${b.rankAtMost}名加${b.points}分`;
const BAND = /^前?\s*(\d+)\s*名?\s*(?:加|[=:：])\s*(\d+(?:\.\d+)?)\s*分?$/;

// ---- writing ----

const delayText = (d: Delay | undefined): string | null =>
  d === undefined ? null : 'workingDays' in d ? `${d.workingDays}工作日` : d.duration;

const listText = (xs: readonly string[] | undefined, sep = '、'): string | null =>
  xs === undefined ? null : xs.join(sep);

/** A date-only moment as an Excel date; one with a local time as a date-time; an offset as text. */
function momentCell(s: string | undefined): CellValue {
  if (s === undefined) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (!m) return s;
  return new Date(
    Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4] ?? 0),
      Number(m[5] ?? 0),
      Number(m[6] ?? 0),
    ),
  );
}

function exampleDefinition(): CampaignDefinition {
  const def = validateDefinition({
    campaign: { id: 'hx-2026', name: '2026年度和县营商环境考核评价', county: '和县', year: 2026 },
    units: [
      {
        id: 'spj',
        name: '县行政审批服务局',
        kind: 'bureau',
        people: [
          { id: 'spj-head', name: '王文华', role: 'head', title: '局长' },
          { id: 'spj-deputy', name: '黄立新', role: 'deputy', title: '副局长' },
        ],
      },
      {
        id: 'dsf',
        name: '第三方评价机构',
        kind: 'evaluator',
        people: [{ id: 'dsf-evaluator1', name: '姚海燕', role: 'evaluator', title: '核验员' }],
      },
      {
        id: 'scjgj',
        name: '县市场监督管理局',
        kind: 'department',
        people: [
          { id: 'scjgj-deputy', name: '李明', role: 'deputy', title: '副局长' },
          { id: 'scjgj-staff1', name: '张丽', role: 'staff', phone: '13800000000' },
        ],
      },
    ],
    indicators: [
      {
        code: 'kbqy',
        name: '开办企业',
        leadUnit: 'scjgj',
        cooperatingUnits: ['spj'],
        teamLeader: 'scjgj-deputy',
        fillers: ['scjgj-staff1'],
        fields: [{ key: 'days', label: '办理时间', type: 'number', unit: '工作日', min: 0 }],
        evidence: ['政策文件', '业务系统办件记录'],
      },
    ],
    phases: {
      training: { start: '2026-09-14', end: '2026-09-30' },
      dataEntry: { start: '2026-10-08', end: '2026-10-20' },
      verification: { start: '2026-10-21', end: '2026-11-20', samplingProportion: 0.05 },
      reporting: { start: '2026-11-23', end: '2026-12-25' },
    },
    policy: {
      escalation: [
        { after: { workingDays: 1 }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
      ],
    },
    rectification: { triggers: { scoreBelow: 80, rankBottom: 3 } },
  });
  if (!def.definition)
    throw new Error(`the example definition is not valid: ${JSON.stringify(def.errors)}`);
  return def.definition;
}

function get(obj: unknown, path: string): unknown {
  let v = obj;
  for (const k of path.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function kvValue(def: CampaignDefinition, path: string): CellValue {
  const v = get(def, path);
  if (v === undefined || v === null) return null;
  if (path === 'calendar.holidays' || path === 'calendar.workdays') {
    const xs = v as string[];
    return xs.length ? xs.join('、') : null;
  }
  if (path === 'policy.extensionApprovers')
    return (v as ('bureau' | 'deputy' | 'head')[]).map((a) => APPROVER_ZH[a]).join('、');
  if (path === 'assessment.rankBonuses')
    return (v as { rankAtMost: number; points: number }[]).map(bandText).join('、') || '无';
  if (Array.isArray(v)) return v.join('、');
  if (typeof v === 'boolean') return v ? YES : NO;
  if (typeof v === 'object') return delayText(v as Delay);
  return v as string | number;
}

const HEAD_FILL = 'FFDDEBF7';
const EXAMPLE_FONT = { italic: true, color: { argb: 'FF7F7F7F' } };

function tableSheet(
  wb: Workbook,
  title: string,
  cols: string[],
  rows: CellValue[][],
  widths: number[],
  example: boolean,
): Worksheet {
  const ws = wb.addWorksheet(title, {
    views: [{ state: 'frozen', ySplit: 1 }],
    pageSetup: {
      orientation: 'landscape',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      paperSize: 9,
    },
  });
  ws.columns = cols.map((header, i) => ({ header, width: widths[i] ?? 14 }));
  const head = ws.getRow(1);
  head.font = { bold: true };
  head.eachCell((c) => {
    c.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: HEAD_FILL } };
    c.alignment = { vertical: 'middle', horizontal: 'center' };
  });
  for (const r of rows) {
    const row = ws.addRow(r);
    row.alignment = { vertical: 'top', wrapText: true };
    if (example) {
      row.font = EXAMPLE_FONT;
      row.getCell(1).note = '示例行：请改写或删除';
    }
  }
  return ws;
}

function listValidation(ws: Worksheet, col: number, values: string[], rows = 1000): void {
  const letter = ws.getColumn(col).letter;
  const formula = `"${values.join(',')}"`;
  // Excel limits an inline list to 255 characters.
  if (formula.length > 255) return;
  for (let r = 2; r <= rows; r++)
    ws.getCell(`${letter}${r}`).dataValidation = {
      type: 'list',
      allowBlank: true,
      formulae: [formula],
      showErrorMessage: true,
      errorTitle: '请选择',
      error: `请从列表中选择：${values.join('、')}`,
    };
}

/** The number format that shows a moment as it was written: date, minutes or seconds. */
function momentFormat(s: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return 'yyyy-mm-dd';
  if (/T\d{2}:\d{2}:\d{2}$/.test(s)) return 'yyyy-mm-dd hh:mm:ss';
  if (/T\d{2}:\d{2}$/.test(s)) return 'yyyy-mm-dd hh:mm';
  return undefined;
}

/** The workbook of a definition, or an empty one with an example row in each table. */
export async function templateWorkbook(from?: CampaignDefinition): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const example = from === undefined;
  const def = from ?? exampleDefinition();
  const wb = new ExcelJS.Workbook();
  wb.creator = 'county-campaign';

  const kv = (title: string, keys: readonly (readonly [string, string, string])[]) => {
    const ws = tableSheet(
      wb,
      title,
      KV_COLS,
      keys.map(([label, path, help]) => [label, kvValue(def, path), help]),
      [24, 46, 50],
      false,
    );
    ws.getColumn(1).font = { bold: true };
    ws.getColumn(3).font = EXAMPLE_FONT;
    return ws;
  };

  const camp = kv(SHEETS.campaign, CAMPAIGN_KEYS);
  const yesNoRow = CAMPAIGN_KEYS.findIndex(([, p]) => p === 'calendar.chineseHolidays') + 2;
  camp.getCell(`B${yesNoRow}`).dataValidation = {
    type: 'list',
    allowBlank: true,
    formulae: [`"${YES},${NO}"`],
  };
  // Lists of dates are text: one cell holds several.
  for (const p of ['calendar.holidays', 'calendar.workdays']) {
    const r = CAMPAIGN_KEYS.findIndex(([, q]) => q === p) + 2;
    camp.getCell(`B${r}`).numFmt = '@';
  }

  const unitRows: CellValue[][] = [];
  for (const u of def.units)
    for (const p of u.people)
      unitRows.push([
        u.id,
        u.name,
        KIND_ZH[u.kind],
        p.id,
        p.name,
        ROLE_ZH[p.role],
        p.title ?? null,
        p.phone ?? null,
        p.handle ?? null,
      ]);
  const units = tableSheet(
    wb,
    SHEETS.units,
    UNIT_COLS,
    unitRows,
    [14, 24, 16, 18, 10, 14, 20, 16, 18],
    example,
  );
  listValidation(units, 3, Object.values(KIND_ZH));
  listValidation(units, 6, Object.values(ROLE_ZH));
  units.getColumn(8).numFmt = '@';

  const indRows = def.indicators.map((i) => [
    i.code,
    i.name,
    i.nameEn ?? null,
    i.leadUnit,
    listText(i.cooperatingUnits),
    i.teamLeader,
    listText(i.fillers),
    i.guide ?? null,
    listText(i.evidence, '\n'),
  ]);
  const ind = tableSheet(
    wb,
    SHEETS.indicators,
    IND_COLS,
    indRows,
    [12, 22, 26, 12, 26, 16, 34, 30, 34],
    example,
  );
  listValidation(
    ind,
    4,
    def.units.map((u) => u.id),
  );

  const fieldRows: CellValue[][] = [];
  for (const i of def.indicators)
    for (const f of i.fields)
      fieldRows.push([
        i.code,
        f.key,
        f.label,
        FIELD_TYPE_ZH[f.type],
        f.required ? YES : NO,
        f.unit ?? null,
        f.min ?? null,
        f.max ?? null,
        listText(f.options, '\n'),
        f.help ?? null,
      ]);
  const fields = tableSheet(
    wb,
    SHEETS.fields,
    FIELD_COLS,
    fieldRows,
    [12, 16, 26, 10, 8, 10, 10, 10, 24, 30],
    example,
  );
  listValidation(fields, 4, Object.values(FIELD_TYPE_ZH));
  listValidation(fields, 5, [YES, NO]);
  listValidation(
    fields,
    1,
    def.indicators.map((i) => i.code),
  );

  const phaseRows = PHASES.map((p) => [
    PHASE_ZH[p],
    momentCell(def.phases[p].start),
    momentCell(def.phases[p].end),
  ]);
  const phases = tableSheet(wb, SHEETS.phases, PHASE_COLS, phaseRows, [14, 20, 20], false);
  PHASES.forEach((p, i) => {
    for (const [col, m] of [
      [2, def.phases[p].start],
      [3, def.phases[p].end],
    ] as const) {
      const fmt = momentFormat(m);
      if (fmt) phases.getCell(i + 2, col).numFmt = fmt;
    }
  });
  listValidation(phases, 1, Object.values(PHASE_ZH), 5);

  kv(SHEETS.policy, POLICY_KEYS);

  const escRows = def.policy.escalation.map((s, n) => [
    n + 1,
    delayText(s.after),
    s.notify.map((r) => RECIPIENT_ZH[r]).join('、'),
    s.label ?? null,
  ]);
  tableSheet(wb, SHEETS.escalation, ESC_COLS, escRows, [8, 16, 34, 24], example);

  const chRows = def.notifications.channels.map((c) => [
    c.type,
    c.id ?? null,
    'url' in c ? c.url : null,
    c.type === 'dingtalk' ? (c.secret ?? null) : null,
    c.type === 'webhook' && c.headers
      ? Object.entries(c.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n')
      : null,
    'secretRef' in c ? (c.secretRef ?? null) : null,
    c.type === 'dingtalk' ? (c.signingSecretRef ?? null) : null,
    c.type === 'webhook' ? (c.secretHeader ?? null) : null,
  ]);
  const ch = tableSheet(
    wb,
    SHEETS.channels,
    CHANNEL_COLS,
    chRows,
    [12, 14, 50, 20, 30, 18, 18, 16],
    false,
  );
  listValidation(ch, 1, [...CHANNEL_TYPES], 30);

  const ab = await wb.xlsx.writeBuffer();
  return Buffer.from(ab);
}

// ---- reading: the zip, bounded ----

/**
 * Checks a zip's central directory and inflates each entry with a bound on its output, so
 * that a zip bomb is refused before exceljs expands it. Returns a problem, or null.
 */
export function zipProblem(buf: Buffer, limits = WORKBOOK_LIMITS): string | null {
  // End of central directory: the last PK\x05\x06 within the final 64 KB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) return 'is not an Excel workbook (.xlsx): it is not a zip file';
  const entries = buf.readUInt16LE(eocd + 10);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (entries > limits.entries)
    return `holds ${entries} files inside; an Excel workbook for a campaign holds far fewer (at most ${limits.entries})`;
  let p = cdOffset;
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      return 'is a damaged zip file (its directory cannot be read)';
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    total += usize;
    if (total > limits.uncompressedBytes)
      return `expands to more than ${limits.uncompressedBytes / 1024 / 1024} MB (at ${name}); a campaign's workbook is far smaller — is it a zip bomb?`;
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50)
      return `is a damaged zip file (${name} cannot be found)`;
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataStart, dataStart + csize);
    if (method === 8) {
      const budget = limits.uncompressedBytes - (total - usize);
      let out: Buffer;
      try {
        out = inflateRawSync(data, { maxOutputLength: Math.max(1, Math.min(budget, usize + 1)) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ERR_BUFFER_TOO_LARGE')
          return `${name} inside expands to more than it declares (${usize} bytes); the file is damaged or a zip bomb`;
        return `is a damaged zip file (${name}: ${(e as Error).message})`;
      }
      if (out.length !== usize)
        return `is a damaged zip file (${name} has another size than it declares)`;
    } else if (method !== 0)
      return `uses a zip compression Excel does not write (${name}, method ${method})`;
  }
  return null;
}

// ---- reading: cells ----

interface Loc {
  sheet: string;
  row: number;
  column: string;
  value?: string;
}

class Reader {
  readonly problems: WorkbookProblem[] = [];
  /** Where each path of the raw definition came from, for the validator's problems. */
  readonly locs = new Map<string, Loc>();

  problem(loc: Loc, message: string, path = `${loc.sheet}!${loc.row}`): void {
    this.problems.push({ path, message, ...loc });
  }
}

const ERR = '(error)';

/** The plain value of a cell: text, number, boolean or a Date; formulas by their cached result. */
function cellValue(cell: ExcelJSNs.Cell, r: Reader, loc: Loc): CellValue | typeof ERR {
  const v = cell.value as unknown;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText))
      return (o.richText as { text?: unknown }[]).map((t) => String(t.text ?? '')).join('');
    if ('formula' in o || 'sharedFormula' in o) {
      const res = o.result;
      if (
        typeof res === 'string' ||
        typeof res === 'number' ||
        typeof res === 'boolean' ||
        res instanceof Date
      )
        return res;
      r.problem(
        { ...loc, value: `=${String(o.formula ?? o.sharedFormula)}` },
        '单元格是公式且没有计算结果：请填入数值或文字，不要用公式',
      );
      return ERR;
    }
    if ('hyperlink' in o) return typeof o.text === 'string' ? o.text : String(o.hyperlink);
    if ('error' in o) {
      r.problem(
        { ...loc, value: String(o.error) },
        '单元格是错误值（如 #REF!、#N/A）：请填入正确的内容',
      );
      return ERR;
    }
  }
  r.problem({ ...loc, value: String(v) }, '无法识别的单元格内容');
  return ERR;
}

const shown = (v: CellValue): string =>
  v instanceof Date
    ? v
        .toISOString()
        .replace(/T00:00:00\.000Z$/, '')
        .replace(/:00\.000Z$/, '')
        .replace('T', ' ')
    : String(v ?? '');

/** A sheet as rows of values by column heading, with each cell's location. */
interface Row {
  n: number;
  get(col: string): CellValue;
  /** The cell's number format (how a date shows). */
  fmt?(col: string): string;
  loc(col: string): Loc;
}

function readTable(ws: Worksheet, cols: string[], r: Reader): Row[] {
  const headIndex = new Map<string, number>();
  ws.getRow(1).eachCell((c, i) => {
    const h = String(c.value ?? '').trim();
    if (h) headIndex.set(h, i);
  });
  for (const col of cols)
    if (
      !headIndex.has(col) &&
      ![
        '英文名称',
        '填报指引',
        '职务',
        '电话',
        '企业微信账号',
        '计量单位',
        '最小值',
        '最大值',
        '可选项',
        '填报说明',
        '名称',
        '编号',
        '地址',
        '签名密钥',
        '请求头',
        '密钥名称',
        '签名密钥名称',
        '密钥请求头',
      ].includes(col)
    )
      r.problem(
        { sheet: ws.name, row: 1, column: col },
        `缺少列“${col}”：请使用 campaign template 生成的表头`,
      );
  const rows: Row[] = [];
  ws.eachRow({ includeEmpty: false }, (row, n) => {
    if (n === 1) return;
    const values = new Map<string, CellValue>();
    const fmts = new Map<string, string>();
    let any = false;
    for (const col of cols) {
      const i = headIndex.get(col);
      if (i === undefined) continue;
      const loc: Loc = { sheet: ws.name, row: n, column: col };
      let v = cellValue(row.getCell(i), r, loc);
      if (v === ERR) v = null;
      if (typeof v === 'string') {
        v = v.trim();
        if (v === '') v = null;
        // Text PostgreSQL, JSON and people can hold (domain/text.ts), shown without the fault.
        const f = v === null ? null : textFault(v, LONG_TEXT_MAX);
        if (f && v !== null) {
          const d = describeFault(f);
          r.problem({ ...loc, value: quoteForMessage(v) }, `单元格${d.zh}（the cell ${d.en}）`);
          v = null;
        }
      }
      if (v !== null) any = true;
      values.set(col, v);
      fmts.set(col, row.getCell(i).numFmt ?? '');
    }
    if (!any) return;
    rows.push({
      n,
      get: (col) => values.get(col) ?? null,
      fmt: (col) => fmts.get(col) ?? '',
      loc: (col) => ({
        sheet: ws.name,
        row: n,
        column: col,
        value: shown(values.get(col) ?? null),
      }),
    });
  });
  return rows;
}

const SEP = /[、,，;；\n]+/;

// ---- reading: values ----

class Fields {
  constructor(
    private readonly r: Reader,
    private readonly row: Row,
  ) {}
  loc(col: string): Loc {
    return this.row.loc(col);
  }
  raw(col: string): CellValue {
    return this.row.get(col);
  }
  text(col: string): string | undefined {
    const v = this.row.get(col);
    if (v === null) return undefined;
    if (v instanceof Date) {
      this.r.problem(this.loc(col), '这里应填文字，单元格却是日期');
      return undefined;
    }
    return String(v);
  }
  /** A mistake in this row's cell `col`. */
  problem(col: string, message: string): void {
    this.r.problem(this.loc(col), message);
  }
  /** Numbers stay numbers; text that is a number (a number typed as text) is accepted. */
  number(col: string): number | undefined | string {
    const v = this.row.get(col);
    if (v === null) return undefined;
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    this.r.problem(this.loc(col), '应为数字');
    return undefined;
  }
  list(col: string, sep: RegExp = SEP): string[] | undefined {
    const t = this.text(col);
    return t === undefined
      ? undefined
      : t
          .split(sep)
          .map((s) => s.trim())
          .filter(Boolean);
  }
  choice<K extends string>(col: string, labels: Record<K, string>): K | undefined {
    const t = this.text(col);
    if (t === undefined) return undefined;
    const k = reverse(labels).get(t);
    if (k === undefined)
      this.r.problem(
        this.loc(col),
        `不是可选的值；可选：${Object.values<string>(labels).join('、')}`,
      );
    return k;
  }
  yesNo(col: string): boolean | undefined {
    const v = this.row.get(col);
    if (v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === YES) return true;
    if (v === NO) return false;
    this.r.problem(this.loc(col), `应填“${YES}”或“${NO}”`);
    return undefined;
  }
  /** A date-only or local date-time moment from a date cell; text only with an explicit offset. */
  moment(col: string): string | undefined {
    const v = this.row.get(col);
    if (v === null) return undefined;
    if (v instanceof Date) {
      const iso = v.toISOString();
      // As the cell shows it: a date, a time to the minute or to the second.
      const fmt = this.row.fmt?.(col) ?? '';
      if (/s/.test(fmt)) return iso.slice(0, 19);
      if (/h/i.test(fmt)) return iso.slice(0, 16);
      if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
      return iso.endsWith(':00.000Z') ? iso.slice(0, 16) : iso.slice(0, 19);
    }
    if (
      typeof v === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$/.test(v)
    )
      return v;
    this.r.problem(
      this.loc(col),
      typeof v === 'number'
        ? '应为日期，单元格却是数字'
        : '日期写成了文本：请把单元格设为日期格式重新输入（如 2026-10-08），或写带时区的时刻（2026-10-08T09:00+08:00）',
    );
    return undefined;
  }
  delay(col: string): Delay | undefined {
    const v = this.row.get(col);
    if (v === null) return undefined;
    if (typeof v === 'number' && Number.isInteger(v)) return { workingDays: v };
    const t = String(v).trim();
    const m = /^(\d+)\s*个?工作日$/.exec(t);
    if (m) return { workingDays: Number(m[1]) };
    if (parseDurationMs(t) !== null) return { duration: t };
    this.r.problem(this.loc(col), '应为工作日数（如 3工作日）或 ISO 时长（如 P3D、PT2H）');
    return undefined;
  }
}

/** Builds a raw object, remembering the cell each path came from. */
function set(
  r: Reader,
  obj: Record<string, unknown>,
  path: string,
  value: unknown,
  loc: Loc,
): void {
  r.locs.set(path, loc);
  if (value === undefined) return;
  const parts = path.split('.');
  let o = obj;
  for (const k of parts.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[parts[parts.length - 1]!] = value;
  r.locs.set(path, loc);
}

function readKeyValue(
  ws: Worksheet | undefined,
  sheet: string,
  keys: readonly (readonly [string, string, string])[],
  r: Reader,
  raw: Record<string, unknown>,
  convert: (f: Fields, path: string) => unknown,
): void {
  if (!ws) return;
  const rows = readTable(ws, KV_COLS, r);
  const byLabel = new Map<string, readonly [string, string, string]>(keys.map((k) => [k[0], k]));
  const seen = new Set<string>();
  for (const row of rows) {
    const label = row.get('项目');
    const key = byLabel.get(String(label ?? ''));
    if (!key) {
      if (row.get('值') !== null)
        r.problem(
          row.loc('项目'),
          `不认识的项目；${sheet}表的项目有：${keys.map((k) => k[0]).join('、')}`,
        );
      continue;
    }
    if (seen.has(key[0])) {
      r.problem(row.loc('项目'), '项目重复出现');
      continue;
    }
    seen.add(key[0]);
    const valueLoc = (): Loc => ({ ...row.loc('值'), column: `值（${key[0]}）` });
    const f = new Fields(r, {
      ...row,
      get: (c) => (c === '项目' ? label : row.get('值')),
      loc: (c) => (c === '项目' ? row.loc('项目') : valueLoc()),
    });
    set(r, raw, key[1], convert(f, key[1]), valueLoc());
  }
}

function campaignValue(f: Fields, path: string): unknown {
  switch (path) {
    case 'campaign.year':
      return f.number('值');
    case 'calendar.chineseHolidays':
      return f.yesNo('值');
    case 'calendar.holidays':
    case 'calendar.workdays': {
      const v = f.raw('值');
      if (v instanceof Date) return [v.toISOString().slice(0, 10)];
      return f.list('值');
    }
    case 'dispatch.recipients':
      return f.list('值');
    case 'calendar.workdayStart':
    case 'calendar.workdayEnd':
    case 'dispatch.at': {
      const v = f.raw('值');
      // A time typed into Excel is a date on 1899-12-30.
      if (v instanceof Date) return v.toISOString().slice(11, 16);
      return f.text('值');
    }
    default:
      return f.text('值');
  }
}

function policyValue(f: Fields, path: string): unknown {
  switch (path) {
    case 'policy.reminders':
    case 'phases.dataEntry.order':
      return f.list('值');
    case 'policy.extensionApprovers': {
      const xs = f.list('值');
      if (!xs) return undefined;
      const m = reverse(APPROVER_ZH);
      return xs.map((x) => {
        const k = m.get(x);
        if (!k) f.choice('值', APPROVER_ZH);
        return k ?? x;
      });
    }
    case 'policy.maxExtensions':
    case 'phases.dataEntry.indicatorsPerDay':
    case 'phases.verification.samplingProportion':
    case 'rectification.triggers.scoreBelow':
    case 'rectification.triggers.rankBottom':
      return f.number('值');
    case 'assessment.base':
    case 'assessment.perWorkingDayLate':
    case 'assessment.perEscalationLevel':
    case 'assessment.perReturn':
    case 'assessment.perDiscrepancy':
    case 'assessment.trainingNotDone':
    case 'assessment.cap':
    case 'highlights.maxTypicalCasesPerIndicator':
      return f.number('值');
    case 'assessment.rankBonuses': {
      const xs = f.list('值');
      if (!xs) return undefined;
      if (xs.length === 1 && xs[0] === '无') return [];
      const bands: { rankAtMost: number; points: number }[] = [];
      for (const x of xs) {
        const m = BAND.exec(x);
        if (!m) {
          f.problem('值', `「${x}」不是名次加分，应写作 前3名加3分`);
          return undefined;
        }
        bands.push({ rankAtMost: Number(m[1]), points: Number(m[2]) });
      }
      return bands;
    }
    case 'policy.returnDue':
    case 'phases.verification.evidenceDue':
    case 'rectification.stepDue':
    case 'rectification.measureDue':
      return f.delay('值');
    default:
      return f.text('值');
  }
}

/** The locations of the raw definition's paths; a validator problem gets the deepest one. */
function locate(r: Reader, path: string): Loc | undefined {
  const segs = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  for (let k = segs.length; k > 0; k--) {
    const loc = r.locs.get(segs.slice(0, k).join('.'));
    if (loc) return loc;
  }
  return undefined;
}

export interface WorkbookResult {
  raw?: unknown;
  problems: WorkbookProblem[];
}

/**
 * An .xlsx opened once its zip container has passed the bounds (no zip bomb reaches exceljs),
 * or what is wrong with it, said of the file.
 */
export async function openWorkbook(
  bytes: Buffer,
  limits = WORKBOOK_LIMITS,
): Promise<{ wb: ExcelJSNs.Workbook } | { problem: string }> {
  const zp = zipProblem(bytes, limits);
  if (zp) return { problem: zp };
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (e) {
    return { problem: `is not a readable Excel workbook: ${(e as Error).message}` };
  }
  return { wb };
}

/** Reads the bytes of a workbook into a raw definition, or the list of its mistakes. */
export async function readWorkbook(
  bytes: Buffer,
  limits = WORKBOOK_LIMITS,
): Promise<WorkbookResult> {
  const opened = await openWorkbook(bytes, limits);
  if ('problem' in opened) return { problems: [{ path: '(file)', message: opened.problem }] };
  const { wb } = opened;
  const r = new Reader();
  if (wb.worksheets.length > limits.sheets)
    return {
      problems: [
        {
          path: '(file)',
          message: `has ${wb.worksheets.length} sheets; a campaign workbook has ${Object.keys(SHEETS).length} (at most ${limits.sheets})`,
        },
      ],
    };
  for (const ws of wb.worksheets) {
    if (ws.rowCount > limits.rowsPerSheet || ws.columnCount > limits.columnsPerSheet)
      return {
        problems: [
          {
            path: '(file)',
            sheet: ws.name,
            message: `sheet ${ws.name} has ${ws.rowCount} rows and ${ws.columnCount} columns; at most ${limits.rowsPerSheet} rows and ${limits.columnsPerSheet} columns are read`,
          },
        ],
      };
    const merges = (ws.model as { merges?: string[] }).merges ?? [];
    for (const m of merges) {
      const first = m.split(':')[0] ?? m;
      const cell = ws.getCell(first);
      const head = String(ws.getRow(1).getCell(cell.col).value ?? '');
      r.problem(
        {
          sheet: ws.name,
          row: Number(cell.row),
          column: head || cell.address,
          value: shown(cell.value as CellValue),
        },
        `合并单元格 ${m}：请取消合并，每行填写完整（合并后只有第一格有值）`,
      );
    }
  }
  const sheet = (name: string) => wb.getWorksheet(name);
  const raw: Record<string, unknown> = {};
  for (const [k, name] of Object.entries(SHEETS))
    if (!sheet(name) && k !== 'channels' && k !== 'escalation')
      r.problems.push({
        path: '(file)',
        sheet: name,
        message: `缺少工作表“${name}”：请使用 campaign template 生成的工作簿`,
      });

  readKeyValue(sheet(SHEETS.campaign), SHEETS.campaign, CAMPAIGN_KEYS, r, raw, campaignValue);

  // Units and people: one row per person.
  const units: { id: string; name?: string; kind?: string; people: unknown[] }[] = [];
  const unitById = new Map<string, number>();
  const personUnit = new Map<string, { unit: string; row: number }>();
  const wsUnits = sheet(SHEETS.units);
  if (wsUnits)
    for (const row of readTable(wsUnits, UNIT_COLS, r)) {
      const f = new Fields(r, row);
      const uid = f.text('单位编号');
      if (!uid) {
        r.problem(row.loc('单位编号'), '单位编号不能为空');
        continue;
      }
      let ui = unitById.get(uid);
      const uname = f.text('单位名称');
      const kind = f.choice('单位类型', KIND_ZH);
      if (ui === undefined) {
        ui = units.length;
        unitById.set(uid, ui);
        units.push({
          id: uid,
          ...(uname ? { name: uname } : {}),
          ...(kind ? { kind } : {}),
          people: [],
        });
        r.locs.set(`units.${ui}`, row.loc('单位编号'));
        r.locs.set(`units.${ui}.id`, row.loc('单位编号'));
        r.locs.set(`units.${ui}.name`, row.loc('单位名称'));
        r.locs.set(`units.${ui}.kind`, row.loc('单位类型'));
      } else {
        const u = units[ui]!;
        if (uname && u.name && uname !== u.name)
          r.problem(
            row.loc('单位名称'),
            `同一单位编号 ${uid} 的单位名称与前面的行（${u.name}）不同`,
          );
        if (kind && u.kind && kind !== u.kind)
          r.problem(row.loc('单位类型'), `同一单位编号 ${uid} 的单位类型与前面的行不同`);
      }
      const pid = f.text('人员编号');
      if (!pid) {
        r.problem(row.loc('人员编号'), '人员编号不能为空（每行一人）');
        continue;
      }
      const before = personUnit.get(pid);
      if (before) {
        r.problem(
          row.loc('人员编号'),
          before.unit === uid
            ? `人员 ${pid} 在本单位出现两次（第 ${before.row} 行已有）`
            : `人员 ${pid} 同时在两个单位：第 ${before.row} 行属于 ${before.unit}，这里属于 ${uid}；一人只属一个单位`,
        );
        continue;
      }
      personUnit.set(pid, { unit: uid, row: row.n });
      const u = units[ui]!;
      const pi = u.people.length;
      const person: Record<string, unknown> = { id: pid };
      const put = (key: string, col: string, v: unknown) => {
        r.locs.set(`units.${ui}.people.${pi}.${key}`, row.loc(col));
        if (v !== undefined) person[key] = v;
      };
      put('name', '姓名', f.text('姓名'));
      put('role', '角色', f.choice('角色', ROLE_ZH));
      put('title', '职务', f.text('职务'));
      put('phone', '电话', f.text('电话'));
      put('handle', '企业微信账号', f.text('企业微信账号'));
      r.locs.set(`units.${ui}.people.${pi}`, row.loc('人员编号'));
      r.locs.set(`units.${ui}.people.${pi}.id`, row.loc('人员编号'));
      u.people.push(person);
    }
  raw.units = units;

  // Indicators, then their questionnaire fields.
  const indicators: Record<string, unknown>[] = [];
  const indByCode = new Map<string, number>();
  const wsInd = sheet(SHEETS.indicators);
  if (wsInd)
    for (const row of readTable(wsInd, IND_COLS, r)) {
      const f = new Fields(r, row);
      const code = f.text('指标编号');
      if (!code) {
        r.problem(row.loc('指标编号'), '指标编号不能为空');
        continue;
      }
      if (indByCode.has(code)) {
        r.problem(row.loc('指标编号'), `指标编号 ${code} 重复出现`);
        continue;
      }
      const ii = indicators.length;
      indByCode.set(code, ii);
      const ind: Record<string, unknown> = { code };
      const base = `indicators.${ii}`;
      r.locs.set(base, row.loc('指标编号'));
      r.locs.set(`${base}.code`, row.loc('指标编号'));
      const put = (key: string, col: string, v: unknown) => {
        r.locs.set(`${base}.${key}`, row.loc(col));
        if (v !== undefined) ind[key] = v;
      };
      put('name', '指标名称', f.text('指标名称'));
      put('nameEn', '英文名称', f.text('英文名称'));
      const lead = f.text('牵头单位');
      put('leadUnit', '牵头单位', lead);
      if (lead && !unitById.has(lead))
        r.problem(row.loc('牵头单位'), `牵头单位 ${lead} 不在“${SHEETS.units}”表中`);
      const coop = f.list('配合单位') ?? [];
      ind.cooperatingUnits = coop.filter((u) => {
        if (unitById.has(u)) return true;
        r.problem(row.loc('配合单位'), `配合单位 ${u} 不在“${SHEETS.units}”表中`);
        return false;
      });
      r.locs.set(`${base}.cooperatingUnits`, row.loc('配合单位'));
      const leader = f.text('领队');
      put('teamLeader', '领队', leader);
      if (leader && !personUnit.has(leader))
        r.problem(row.loc('领队'), `领队 ${leader} 不在“${SHEETS.units}”表的人员中`);
      const fillers = f.list('填报人员') ?? [];
      ind.fillers = fillers.filter((p) => {
        if (personUnit.has(p)) return true;
        r.problem(row.loc('填报人员'), `填报人员 ${p} 不在“${SHEETS.units}”表的人员中`);
        return false;
      });
      r.locs.set(`${base}.fillers`, row.loc('填报人员'));
      put('guide', '填报指引', f.text('填报指引'));
      ind.fields = [];
      ind.evidence = f.list('佐证材料清单', /\n+/) ?? [];
      r.locs.set(`${base}.evidence`, row.loc('佐证材料清单'));
      indicators.push(ind);
    }
  const wsFields = sheet(SHEETS.fields);
  if (wsFields)
    for (const row of readTable(wsFields, FIELD_COLS, r)) {
      const f = new Fields(r, row);
      const code = f.text('指标编号');
      const ii = code === undefined ? undefined : indByCode.get(code);
      if (ii === undefined) {
        r.problem(
          row.loc('指标编号'),
          code ? `指标 ${code} 不在“${SHEETS.indicators}”表中` : '指标编号不能为空',
        );
        continue;
      }
      const list = indicators[ii]!.fields as Record<string, unknown>[];
      const fi = list.length;
      const base = `indicators.${ii}.fields.${fi}`;
      const field: Record<string, unknown> = {};
      r.locs.set(base, row.loc('字段键'));
      const put = (key: string, col: string, v: unknown) => {
        r.locs.set(`${base}.${key}`, row.loc(col));
        if (v !== undefined) field[key] = v;
      };
      put('key', '字段键', f.text('字段键'));
      put('label', '字段名称', f.text('字段名称'));
      put('type', '类型', f.choice('类型', FIELD_TYPE_ZH));
      put('required', '必填', f.yesNo('必填'));
      put('unit', '计量单位', f.text('计量单位'));
      put('min', '最小值', f.number('最小值'));
      put('max', '最大值', f.number('最大值'));
      put('options', '可选项', f.list('可选项', /\n+/));
      put('help', '填报说明', f.text('填报说明'));
      list.push(field);
    }
  for (const [ii, ind] of indicators.entries())
    if ((ind.fields as unknown[]).length === 0 && r.locs.get(`indicators.${ii}`))
      r.locs.set(`indicators.${ii}.fields`, {
        ...r.locs.get(`indicators.${ii}`)!,
        column: '指标编号（问卷字段表无此指标的字段）',
      });
  raw.indicators = indicators;

  // Phases.
  const phases: Record<string, Record<string, unknown>> = {};
  const wsPhases = sheet(SHEETS.phases);
  if (wsPhases)
    for (const row of readTable(wsPhases, PHASE_COLS, r)) {
      const f = new Fields(r, row);
      const p = f.choice('阶段', PHASE_ZH);
      if (!p) continue;
      if (phases[p]) {
        r.problem(row.loc('阶段'), '阶段重复出现');
        continue;
      }
      const w: Record<string, unknown> = {};
      phases[p] = w;
      r.locs.set(`phases.${p}`, row.loc('阶段'));
      const start = f.moment('开始');
      const end = f.moment('结束');
      if (start !== undefined) w.start = start;
      if (end !== undefined) w.end = end;
      r.locs.set(`phases.${p}.start`, row.loc('开始'));
      r.locs.set(`phases.${p}.end`, row.loc('结束'));
    }
  raw.phases = phases;

  readKeyValue(sheet(SHEETS.policy), SHEETS.policy, POLICY_KEYS, r, raw, policyValue);
  // `phases.dataEntry.*` from the policy sheet merged into the phase rows above.
  raw.policy ??= {};

  const escalation: Record<string, unknown>[] = [];
  const wsEsc = sheet(SHEETS.escalation);
  if (wsEsc)
    for (const row of readTable(wsEsc, ESC_COLS, r)) {
      const f = new Fields(r, row);
      const si = escalation.length;
      const base = `policy.escalation.${si}`;
      const step: Record<string, unknown> = {};
      r.locs.set(base, row.loc('级别'));
      const after = f.delay('间隔');
      if (after) step.after = after;
      r.locs.set(`${base}.after`, row.loc('间隔'));
      const notify = (f.list('通知对象') ?? []).map((x) => {
        const k = reverse(RECIPIENT_ZH).get(x);
        if (!k)
          r.problem(
            row.loc('通知对象'),
            `通知对象“${x}”不是可选的值；可选：${Object.values(RECIPIENT_ZH).join('、')}`,
          );
        return k ?? x;
      });
      step.notify = notify;
      r.locs.set(`${base}.notify`, row.loc('通知对象'));
      const label = f.text('名称');
      if (label !== undefined) step.label = label;
      r.locs.set(`${base}.label`, row.loc('名称'));
      escalation.push(step);
    }
  (raw.policy as Record<string, unknown>).escalation = escalation;
  if (wsEsc) r.locs.set('policy.escalation', { sheet: SHEETS.escalation, row: 2, column: '间隔' });

  const wsCh = sheet(SHEETS.channels);
  if (wsCh) {
    const channels: Record<string, unknown>[] = [];
    for (const row of readTable(wsCh, CHANNEL_COLS, r)) {
      const f = new Fields(r, row);
      const ci = channels.length;
      const base = `notifications.channels.${ci}`;
      const type = f.text('类型');
      if (type && !(CHANNEL_TYPES as readonly string[]).includes(type))
        r.problem(row.loc('类型'), `不是可选的值；可选：${CHANNEL_TYPES.join('、')}`);
      const c: Record<string, unknown> = { type };
      r.locs.set(base, row.loc('类型'));
      const put = (key: string, col: string, v: unknown) => {
        r.locs.set(`${base}.${key}`, row.loc(col));
        if (v !== undefined) c[key] = v;
      };
      put('id', '编号', f.text('编号'));
      put('url', '地址', f.text('地址'));
      put('secret', '签名密钥', f.text('签名密钥'));
      const headers = f.list('请求头', /\n+/);
      if (headers) {
        const h: Record<string, string> = {};
        for (const line of headers) {
          const i = line.indexOf(':');
          if (i <= 0) r.problem(row.loc('请求头'), `请求头“${line}”应写成 名称: 值`);
          else h[line.slice(0, i).trim()] = line.slice(i + 1).trim();
        }
        put('headers', '请求头', h);
      }
      put('secretRef', '密钥名称', f.text('密钥名称'));
      put('signingSecretRef', '签名密钥名称', f.text('签名密钥名称'));
      put('secretHeader', '密钥请求头', f.text('密钥请求头'));
      channels.push(c);
    }
    raw.notifications = { channels };
  }
  return {
    raw,
    problems: r.problems.concat(),
    ...{ locate: (p: string) => locate(r, p) },
  } as WorkbookResult & {
    locate: (p: string) => Loc | undefined;
  };
}

/**
 * A workbook checked as a definition: its own mistakes and the validator's, each located by
 * sheet, row and column; with the definition when there are none.
 */
export async function loadWorkbookBytes(bytes: Buffer, file: string) {
  const read = (await readWorkbook(bytes)) as WorkbookResult & {
    locate?: (p: string) => Loc | undefined;
  };
  if (read.raw === undefined || !read.locate)
    return { file, valid: false, warnings: [] as WorkbookProblem[], errors: read.problems };
  const result = validateDefinition(read.raw);
  const where = (p: DefinitionProblem): WorkbookProblem => {
    const loc = read.locate!(p.path);
    return loc ? { ...p, ...loc, message: p.message } : p;
  };
  // A problem the reader already reported in a cell (an unknown unit it dropped, a choice it
  // could not read) is not repeated by the validator's follow-up.
  const flagged = new Set(read.problems.map((p) => `${p.sheet}|${p.row}|${p.column}`));
  const errors = [
    ...read.problems,
    ...result.errors.map(where).filter((p) => !flagged.has(`${p.sheet}|${p.row}|${p.column}`)),
  ];
  const valid = errors.length === 0 && result.valid;
  return {
    ...result,
    file,
    valid,
    errors,
    warnings: result.warnings.map(where),
    ...(valid ? {} : { definition: undefined, calendar: undefined }),
  };
}

/** `sheet 第 N 行 「列」 (value)` for people. */
export function problemPlace(p: WorkbookProblem): string {
  if (!p.sheet) return p.path;
  return `${p.sheet} 第${p.row ?? '?'}行「${p.column ?? ''}」${p.value ? `（${p.value}）` : ''}`;
}
