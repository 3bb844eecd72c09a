// Pieces of pages: the red/yellow/green light, task tables, the questionnaire form built from
// an indicator's typed fields (errors beside each field), the history timeline.
import type { QuestionnaireField } from '../domain/definition.ts';
import { eventLabel, label } from '../domain/labels.ts';
import type { Colour } from '../domain/schedule.ts';
import { formatLocal } from '../domain/time.ts';
import type { TaskRow } from './access.ts';
import type { EvidenceFile } from './evidence.ts';
import { Html, html, t, type Lang } from './html.ts';
import { colourOf, type TaskEvent } from './service.ts';

export const taskHref = (taskId: string) => `/tasks/${encodeURIComponent(taskId)}`;

export function light(lang: Lang, c: Colour): Html {
  const text = { green: ['绿灯', 'green'], yellow: ['黄灯', 'yellow'], red: ['红灯', 'red'] }[c];
  return html`<span class="light ${c}">${t(lang, text[0]!, text[1]!)}</span>`;
}

export const local = (d: Date | number, tz: string) =>
  formatLocal(typeof d === 'number' ? d : d.getTime(), tz).slice(0, 16);

const ZONE_ZH: Record<string, string> = {
  'Asia/Shanghai': '北京时间',
  'Asia/Urumqi': '乌鲁木齐时间',
  UTC: '协调世界时',
};

/** A local time with its zone named, for times a reader could take for another zone's. */
export const localWithZone = (d: Date | number, tz: string, lang: Lang) =>
  `${local(d, tz)}（${lang === 'zh' ? (ZONE_ZH[tz] ?? tz) : tz}）`;

const ROLE_TITLES: Record<string, [string, string]> = {
  staff: ['填报人员', 'staff'],
  deputy: ['分管负责人', 'deputy head'],
  head: ['主要负责人', 'head'],
  coordinator: ['协调人', 'coordinator'],
  evaluator: ['核验人员', 'evaluator'],
  leader: ['县领导', 'county leader'],
};

/** A role's title as people say it (the roster's role codes are for files and programs). */
export const roleTitle = (lang: Lang, role: string): string =>
  ROLE_TITLES[role] ? t(lang, ...ROLE_TITLES[role]) : role;

/**
 * A task's title for people: a title that ends with its unit's id in brackets (a co-operating
 * unit's task, `开办企业 配合填报（swj）`) names the unit instead.
 */
export function shownTitle(title: string, unitId: string, unitName: string | null): string {
  if (!unitName) return title;
  return title
    .replace(`（${unitId}）`, `（${unitName}）`)
    .replace(`(${unitId})`, `（${unitName}）`);
}

export function escalationText(lang: Lang, level: number): string {
  if (level === 0) return t(lang, '未督办', 'none');
  return t(lang, `${level} 级督办`, `level ${level}`);
}

export function taskTable(lang: Lang, rows: TaskRow[], opts: { unit?: boolean } = {}): Html {
  const L = (zh: string, en: string) => t(lang, zh, en);
  if (rows.length === 0) return html`<p class="muted">${L('没有事项。', 'No tasks.')}</p>`;
  return html`<table class="stack tasks">
    <thead>
      <tr>
        <th>${L('灯', 'Light')}</th>
        <th>${L('事项', 'Task')}</th>
        ${opts.unit ? html`<th>${L('单位', 'Unit')}</th>` : ''}
        <th>${L('承办人', 'Assignee')}</th>
        <th>${L('状态', 'State')}</th>
        <th>${L('截止', 'Due')}</th>
        <th>${L('督办', 'Escalation')}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-task="${r.task_id}">
            <td data-label="${L('灯', 'Light')}">${light(lang, colourOf(r))}</td>
            <td data-label="${L('事项', 'Task')}">
              <a href="${taskHref(r.task_id)}">${shownTitle(r.title, r.unit_id, r.unit_name)}</a>
            </td>
            ${opts.unit ? html`<td data-label="${L('单位', 'Unit')}">${r.unit_name ?? r.unit_id}</td>` : ''}
            <td data-label="${L('承办人', 'Assignee')}">${r.assignee_name ?? r.assignee}</td>
            <td data-label="${L('状态', 'State')}">${label(lang, r.state)}</td>
            <td data-label="${L('截止', 'Due')}">${local(r.due_at, r.time_zone)}</td>
            <td data-label="${L('督办', 'Escalation')}">
              ${escalationText(lang, r.escalation_level)}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

const TYPE_HINT: Record<QuestionnaireField['type'], [string, string]> = {
  integer: ['整数', 'whole number'],
  number: ['数字', 'number'],
  percent: ['百分比 0–100', 'percent 0–100'],
  text: ['文字', 'text'],
  boolean: ['是 / 否', 'yes / no'],
  date: ['日期', 'date'],
  enum: ['选项', 'choice'],
};

function fieldInput(f: QuestionnaireField, value: unknown, lang: Lang, first = false): Html {
  const input = fieldInputOf(f, value, lang);
  // The first field in error takes the focus (and so comes into view on a phone).
  return first
    ? new Html(input.text.replace(/^<(input|select|textarea)\b/, '<$1 autofocus'))
    : input;
}

function fieldInputOf(f: QuestionnaireField, value: unknown, lang: Lang): Html {
  const name = `f.${f.key}`;
  const id = `field-${f.key}`;
  const v = value === undefined || value === null ? '' : String(value);
  switch (f.type) {
    case 'boolean':
      return html`<select id="${id}" name="${name}">
        <option value="">${t(lang, '请选择', 'choose')}</option>
        <option value="true" ${v === 'true' ? html`selected` : ''}>${t(lang, '是', 'yes')}</option>
        <option value="false" ${v === 'false' ? html`selected` : ''}>${t(lang, '否', 'no')}</option>
      </select>`;
    case 'enum':
      return html`<select id="${id}" name="${name}">
        <option value="">${t(lang, '请选择', 'choose')}</option>
        ${(f.options ?? []).map((o) => html`<option value="${o}" ${v === o ? html`selected` : ''}>${o}</option>`)}
      </select>`;
    case 'date':
      return html`<input type="date" id="${id}" name="${name}" value="${v}" />`;
    case 'text':
      return html`<input type="text" id="${id}" name="${name}" value="${v}" />`;
    default:
      return html`<input type="text" inputmode="decimal" id="${id}" name="${name}" value="${v}" />`;
  }
}

/** The questionnaire's fields as typed inputs, each with its error beside it. */
export function fieldsForm(
  lang: Lang,
  fields: QuestionnaireField[],
  values: Record<string, unknown>,
  errors: Record<string, string>,
): Html {
  const first = fields.find((f) => errors[f.key])?.key;
  return html`${fields.map((f) => {
    const err = errors[f.key];
    const hint = [
      t(lang, ...TYPE_HINT[f.type]),
      f.unit,
      f.min !== undefined ? `≥ ${f.min}` : '',
      f.max !== undefined ? `≤ ${f.max}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    return html`<div
      class="field ${err ? 'invalid' : ''}"
      data-field="${f.key}"
      ${f.key === first ? html`id="error"` : ''}
    >
      <label for="field-${f.key}"
        >${f.label}${f.required !== false ? html` <span aria-hidden="true">*</span>` : ''}</label
      >
      ${fieldInput(f, values[f.key], lang, f.key === first)}
      ${err ? html`<p class="error" id="error-${f.key}" role="alert">${err}</p>` : ''}
      <div class="muted">${hint}${f.help ? ` — ${f.help}` : ''}</div>
    </div>`;
  })}`;
}

const DETAIL: Record<string, [string, string]> = {
  reason: ['原因', 'reason'],
  note: ['说明', 'note'],
  until: ['延至', 'until'],
  to: ['转给', 'to'],
  label: ['名称', 'label'],
  level: ['级别', 'level'],
  due: ['截止', 'due'],
  evidence: ['佐证材料', 'evidence'],
};

export function timeline(lang: Lang, events: TaskEvent[], tz: string): Html {
  const shown = events.filter((e) => e.type !== 'colour');
  if (shown.length === 0)
    return html`<p class="muted">${t(lang, '暂无记录。', 'Nothing yet.')}</p>`;
  return html`<ol class="timeline">
    ${shown.map((e) => {
      const parts = Object.entries(e.detail)
        .filter(
          ([k, v]) =>
            DETAIL[k] && v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0),
        )
        .map(([k, v]) => {
          const text =
            (k === 'until' || k === 'due') && typeof v === 'number'
              ? local(v, tz)
              : k === 'evidence' && Array.isArray(v)
                ? v
                    .map((x) =>
                      String(x)
                        .replace(/^portal-evidence:\S+ /, '')
                        .replace(/ \(.*$/, ''),
                    )
                    .join('、')
                : String(v);
          return `${t(lang, ...DETAIL[k]!)}：${text}`;
        });
      return html`<li class="${e.type}" data-event="${e.type}">
        <strong>${eventLabel(lang, e.type)}</strong>
        <span class="muted">${local(Date.parse(e.at), tz)}</span>
        ${e.actor ? html`· <span class="actor">${e.actorName ?? e.actor}</span>` : ''}
        ${parts.length ? html`<div>${parts.join('；')}</div>` : ''}
      </li>`;
    })}
  </ol>`;
}

export function evidenceList(lang: Lang, files: EvidenceFile[]): Html {
  if (files.length === 0)
    return html`<p class="muted">${t(lang, '尚未上传佐证材料。', 'No evidence uploaded yet.')}</p>`;
  return html`<ul class="evidence">
    ${files.map(
      (f) =>
        html`<li>
          <a href="/evidence/${f.fileId}">${f.name}</a>
          <span class="muted"
            >${(f.size / 1024).toFixed(1)} KB · sha256 ${f.sha256.slice(0, 12)}…</span
          >
        </li>`,
    )}
  </ul>`;
}
