// The rectification pages (整改): a campaign's rectifications with their state, and one
// indicator's rectification — the four steps (查问题 → 摆原因 → 找差距 → 定措施) with the form of
// the step under way for its lead unit (typed inputs, the error beside each field), the measures
// as the ledger has them, and the bureau's form to add a measure. Who sees what is decided in
// campaign-work.ts; anybody else gets 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { label } from '../domain/labels.ts';
import { rectificationReasonText } from '../domain/campaign.ts';
import { STEP_KINDS, type StepKind } from '../domain/rectification.ts';
import { sendPage } from './app.ts';
import {
  addMeasure,
  rectificationDetail,
  rectificationsOf,
  submitStep,
  type RectificationDetail,
  type RectificationSummary,
} from './campaign-work.ts';
import {
  badNotice,
  enc,
  field,
  hiddenInputs,
  okNotice,
  refusalOnPage,
  str,
  type Body,
} from './form-bits.ts';
import { html, t, type Html, type Lang } from './html.ts';
import { meOf } from './pages.ts';
import type { PortalDeps } from './service.ts';
import {
  FIELD_LABELS,
  STEP_LISTS,
  STEP_TITLES,
  formValues,
  stepFromForm,
  valuesOfData,
} from './step-form.ts';
import { local, taskHref } from './views.ts';

export const rectificationHref = (campaignId: string, code?: string) =>
  `/campaigns/${enc(campaignId)}/rectification${code ? `/${enc(code)}` : ''}`;

const STATE_TEXT: Record<RectificationSummary['state'], [string, string]> = {
  steps: ['制定整改方案', 'making the plan'],
  measures: ['整改措施落实中', 'measures under way'],
  closed: ['已销号', 'closed'],
  cancelled: ['已取消', 'cancelled'],
};

export function rectificationStateText(lang: Lang, r: RectificationSummary): string {
  const s = t(lang, ...STATE_TEXT[r.state]);
  if (r.state === 'steps' && r.step)
    return `${s} · ${t(lang, ...STEP_TITLES[r.step])}（${label(lang, r.stepState ?? 'open')}）`;
  if (r.state !== 'steps')
    return `${s} · ${t(lang, `措施 ${r.measures} 项，已销号 ${r.closedMeasures} 项`, `${r.closedMeasures} of ${r.measures} measures closed`)}`;
  return s;
}

/** The rectifications as a table (the list page and the campaign's board). */
export function rectificationTable(
  lang: Lang,
  campaignId: string,
  rows: RectificationSummary[],
): Html {
  const L = (zh: string, en: string) => t(lang, zh, en);
  if (rows.length === 0)
    return html`<p class="muted">${L('没有进行中的整改。', 'No rectification.')}</p>`;
  return html`<table class="stack rectifications">
    <thead>
      <tr>
        <th>${L('指标', 'Indicator')}</th>
        <th>${L('牵头单位', 'Lead unit')}</th>
        <th>${L('整改状态', 'Rectification')}</th>
        <th>${L('原因', 'Reason')}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-rectification="${r.code}" data-state="${r.state}">
            <td data-label="${L('指标', 'Indicator')}">
              <a href="${rectificationHref(campaignId, r.code)}">${r.code} ${r.name}</a>
            </td>
            <td data-label="${L('牵头单位', 'Lead unit')}">${r.leadUnitName ?? r.leadUnit}</td>
            <td data-label="${L('整改状态', 'Rectification')}" data-testid="rectification-state">
              ${rectificationStateText(lang, r)}
            </td>
            <td data-label="${L('原因', 'Reason')}">${rectificationReasonText(r.reason, lang)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

interface PageState {
  form?: 'step' | 'measure';
  errors?: Record<string, string>;
  values?: Record<string, string>;
  notice?: Html;
  status?: number;
}

const fl = (lang: Lang, f: string) => {
  const l = FIELD_LABELS[f];
  return l ? t(lang, l[0], l[1]) : f;
};

function problemOptions(
  lang: Lang,
  d: RectificationDetail,
  selected: string,
  count = d.problems.length,
): Html {
  const byNo = new Map(d.problems.map((p) => [p.no, p]));
  return html`<option value="">${t(lang, '请选择', 'choose')}</option>
    ${Array.from({ length: count }, (_, i) => i + 1).map(
      (no) =>
        html`<option value="${no}" ${selected === String(no) ? html`selected` : ''}>
          ${t(lang, `问题 ${no}`, `Problem ${no}`)}${byNo.get(no) ? `：${byNo.get(no)!.description}` : ''}
        </option>`,
    )}`;
}

function unitOptions(lang: Lang, d: RectificationDetail, selected: string): Html {
  return html`<option value="">${t(lang, '请选择', 'choose')}</option>
    ${d.owners.map(
      (u) =>
        html`<option value="${u.id}" ${selected === u.id ? html`selected` : ''}>${u.name}</option>`,
    )}`;
}

function personOptions(lang: Lang, d: RectificationDetail, selected: string): Html {
  return html`<option value="">${t(lang, '请选择', 'choose')}</option>
    ${d.owners.map(
      (u) =>
        html`<optgroup label="${u.name}">
          ${u.people.map(
            (p) =>
              html`<option value="${p.id}" ${selected === p.id ? html`selected` : ''}>
                ${p.name}（${p.id}）
              </option>`,
          )}
        </optgroup>`,
    )}`;
}

/** The form of the step under way, its fields typed, each error beside its field. */
function stepForm(req: FastifyRequest, d: RectificationDetail, state: PageState): Html {
  const lang = req.lang;
  const L = (zh: string, en: string) => t(lang, zh, en);
  const cur = d.current!;
  const kind = cur.kind;
  const { list } = STEP_LISTS[kind];
  const errors = state.form === 'step' ? (state.errors ?? {}) : {};
  const values =
    state.form === 'step' && state.values ? state.values : valuesOfData(kind, cur.lastData);
  const v = (name: string) => values[name] ?? '';
  const err = (name: string) => errors[name];
  const id = (name: string) => `step-${name.replace(/\./g, '-')}`;
  const text = (name: string, f: string) =>
    field(
      id(name),
      name,
      `${fl(lang, f)} *`,
      html`<input type="text" id="${id(name)}" name="${name}" value="${v(name)}" />`,
      err(name),
    );
  const area = (name: string, f: string) =>
    field(
      id(name),
      name,
      `${fl(lang, f)} *`,
      html`<textarea id="${id(name)}" name="${name}">${v(name)}</textarea>`,
      err(name),
    );
  const usedRows = Object.keys(values)
    .map((k) => new RegExp(`^${list}\\.(\\d+)\\.`).exec(k)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number);
  const rowCount = (least: number) =>
    Math.min(30, Math.max(least, usedRows.length ? Math.max(...usedRows) + 2 : 0));
  const problemLabel = (no: number) => {
    const p = d.problems.find((x) => x.no === no);
    return `${L(`问题 ${no}`, `Problem ${no}`)}${p ? `：${p.description}` : ''}`;
  };
  let rows: Html;
  switch (kind) {
    case 'rectify-problems':
      rows = html`${Array.from({ length: rowCount(3) }, (_, i) => i).map(
          (i) =>
            html`<fieldset class="row" data-row="${i}">
              <legend>${L(`问题 ${i + 1}`, `Problem ${i + 1}`)}</legend>
              ${text(`problems.${i}.finding`, 'finding')}
              ${area(`problems.${i}.description`, 'description')}
            </fieldset>`,
        )}
        <p class="muted">
          ${L('逐条列出评价报告指出的问题；空行不提交。', 'One problem per row, as the evaluation report names it; blank rows are left out.')}
        </p>`;
      break;
    case 'rectify-causes':
    case 'rectify-gaps': {
      const f = kind === 'rectify-causes' ? 'cause' : 'gap';
      rows = html`${kind === 'rectify-gaps' ? text('benchmark', 'benchmark') : ''}${Array.from(
        { length: cur.problemCount },
        (_, i) => i,
      ).map(
        (i) =>
          html`<fieldset class="row" data-row="${i}">
            <legend>${problemLabel(i + 1)}</legend>
            <input type="hidden" name="${list}.${i}.problem" value="${i + 1}" />
            ${area(`${list}.${i}.${f}`, f)}
          </fieldset>`,
      )}`;
      break;
    }
    case 'rectify-measures':
      rows = html`${Array.from({ length: rowCount(cur.problemCount + 1) }, (_, i) => i).map(
          (i) =>
            html`<fieldset class="row" data-row="${i}">
              <legend>${L(`措施 ${i + 1}`, `Measure ${i + 1}`)}</legend>
              ${field(
                id(`measures.${i}.problem`),
                `measures.${i}.problem`,
                `${fl(lang, 'problem')} *`,
                html`<select id="${id(`measures.${i}.problem`)}" name="measures.${i}.problem">
                  ${problemOptions(lang, d, v(`measures.${i}.problem`), cur.problemCount)}
                </select>`,
                err(`measures.${i}.problem`),
              )}
              ${area(`measures.${i}.measure`, 'measure')}
              ${field(
                id(`measures.${i}.unit`),
                `measures.${i}.unit`,
                `${fl(lang, 'unit')} *`,
                html`<select id="${id(`measures.${i}.unit`)}" name="measures.${i}.unit">
                  ${unitOptions(lang, d, v(`measures.${i}.unit`))}
                </select>`,
                err(`measures.${i}.unit`),
              )}
              ${field(
                id(`measures.${i}.person`),
                `measures.${i}.person`,
                `${fl(lang, 'person')} *`,
                html`<select id="${id(`measures.${i}.person`)}" name="measures.${i}.person">
                  ${personOptions(lang, d, v(`measures.${i}.person`))}
                </select>`,
                err(`measures.${i}.person`),
              )}
              ${field(
                id(`measures.${i}.due`),
                `measures.${i}.due`,
                `${fl(lang, 'due')} *`,
                html`<input
                  type="date"
                  id="${id(`measures.${i}.due`)}"
                  name="measures.${i}.due"
                  value="${v(`measures.${i}.due`)}"
                />`,
                err(`measures.${i}.due`),
                L('当天下班时截止', 'due at the end of that working day'),
              )}
            </fieldset>`,
        )}
        <p class="muted">
          ${L('每个问题至少一项措施；空行不提交。审批局审核通过后，每项措施成为责任单位的督办事项。', 'At least one measure per problem; blank rows are left out. Once the bureau approves the plan, each measure becomes a task of its unit.')}
        </p>`;
      break;
  }
  const listError = errors[list] ?? errors._;
  return html`<section data-testid="step-form">
    <h2>${t(lang, ...STEP_TITLES[kind])}</h2>
    ${
      Object.keys(errors).length
        ? badNotice(
            L(
              '填写的内容有误，请按各项提示修改后再提交（尚未提交）。',
              'Some values are not valid: correct them as shown and submit again (nothing was sent).',
            ),
          )
        : ''
    }
    <form method="post" action="${rectificationHref(d.campaignId, d.code)}/step" novalidate>
      ${hiddenInputs(req)}
      ${listError ? html`<p class="error" role="alert" data-field="${list}">${listError}</p>` : ''}
      ${rows}
      ${field(
        'step-note',
        'note',
        L('说明（可不填）', 'Note (optional)'),
        html`<textarea id="step-note" name="note">${v('note')}</textarea>`,
      )}
      <div>
        <button type="submit" id="step-submit">${L('提交审核', 'Submit for review')}</button>
      </div>
    </form>
  </section>`;
}

function measureForm(req: FastifyRequest, d: RectificationDetail, state: PageState): Html {
  const lang = req.lang;
  const L = (zh: string, en: string) => t(lang, zh, en);
  const errors = state.form === 'measure' ? (state.errors ?? {}) : {};
  const values = state.form === 'measure' ? (state.values ?? {}) : {};
  const v = (n: string) => values[n] ?? '';
  return html`<section data-testid="measure-form">
    <h2>${L('增加整改措施', 'Add a measure')}</h2>
    ${
      Object.keys(errors).length
        ? badNotice(
            L(
              '填写的内容有误，请按各项提示修改后再提交（尚未提交）。',
              'Some values are not valid: correct them as shown and submit again (nothing was sent).',
            ),
          )
        : ''
    }
    <form method="post" action="${rectificationHref(d.campaignId, d.code)}/measures" novalidate>
      ${hiddenInputs(req)}
      ${field(
        'measure-problem',
        'problem',
        `${fl(lang, 'problem')} *`,
        html`<select id="measure-problem" name="problem">
          ${problemOptions(lang, d, v('problem'))}
        </select>`,
        errors.problem,
      )}
      ${field(
        'measure-measure',
        'measure',
        `${fl(lang, 'measure')} *`,
        html`<textarea id="measure-measure" name="measure">${v('measure')}</textarea>`,
        errors.measure,
      )}
      ${field(
        'measure-unit',
        'unit',
        `${fl(lang, 'unit')} *`,
        html`<select id="measure-unit" name="unit">
          ${unitOptions(lang, d, v('unit'))}
        </select>`,
        errors.unit,
      )}
      ${field(
        'measure-person',
        'person',
        `${fl(lang, 'person')} *`,
        html`<select id="measure-person" name="person">
          ${personOptions(lang, d, v('person'))}
        </select>`,
        errors.person,
      )}
      ${field(
        'measure-due',
        'due',
        `${fl(lang, 'due')} *`,
        html`<input type="date" id="measure-due" name="due" value="${v('due')}" />`,
        errors.due,
        L('当天下班时截止', 'due at the end of that working day'),
      )}
      ${field(
        'measure-reason',
        'reason',
        `${fl(lang, 'reason')} *`,
        html`<textarea id="measure-reason" name="reason">${v('reason')}</textarea>`,
        errors.reason,
        L('如拆分措施、新发现的问题', 'for example a split, or a new finding'),
      )}
      <div>
        <button type="submit" id="measure-submit">${L('增加措施', 'Add the measure')}</button>
      </div>
    </form>
  </section>`;
}

function stepsList(lang: Lang, d: RectificationDetail): Html {
  const L = (zh: string, en: string) => t(lang, zh, en);
  return html`<ol class="timeline steps">
    ${STEP_KINDS.map((k: StepKind) => {
      const s = d.steps.find((x) => x.kind === k);
      const status = s
        ? label(lang, s.state)
        : d.state === 'steps'
          ? L('未开始', 'not yet')
          : L('—', '—');
      return html`<li
        class="${s?.state === 'done' ? 'done' : s?.state === 'returned' ? 'returned' : ''}"
        data-step="${k}"
        data-state="${s?.state ?? 'pending'}"
      >
        <strong>${t(lang, ...STEP_TITLES[k])}</strong> · ${status}
        ${s ? html` · <a href="${taskHref(s.taskId)}">${L('事项', 'task')}</a>` : ''}
      </li>`;
    })}
  </ol>`;
}

function planSection(lang: Lang, d: RectificationDetail): Html {
  const L = (zh: string, en: string) => t(lang, zh, en);
  if (!d.problems.length) return html``;
  const dataOf = (k: StepKind) => d.steps.find((x) => x.kind === k && x.state === 'done')?.data;
  const causes = (dataOf('rectify-causes')?.causes ?? []) as { problem: number; cause: string }[];
  const gaps = (dataOf('rectify-gaps')?.gaps ?? []) as { problem: number; gap: string }[];
  return html`<section>
    <h2>${L('问题、原因与差距', 'Problems, causes and gaps')}</h2>
    ${d.benchmark ? html`<p>${L('对标地区', 'Benchmark')}：${d.benchmark}</p>` : ''}
    <table class="stack problems">
      <thead>
        <tr>
          <th>${L('序号', 'No.')}</th>
          <th>${L('问题', 'Problem')}</th>
          <th>${L('原因', 'Cause')}</th>
          <th>${L('差距', 'Gap')}</th>
        </tr>
      </thead>
      <tbody>
        ${d.problems.map(
          (p) =>
            html`<tr data-problem="${p.no}">
              <td data-label="${L('序号', 'No.')}">${p.no}</td>
              <td data-label="${L('问题', 'Problem')}">${p.description}（${p.finding}）</td>
              <td data-label="${L('原因', 'Cause')}">
                ${
                  causes
                    .filter((c) => c.problem === p.no)
                    .map((c) => c.cause)
                    .join('；') || '—'
                }
              </td>
              <td data-label="${L('差距', 'Gap')}">
                ${
                  gaps
                    .filter((g) => g.problem === p.no)
                    .map((g) => g.gap)
                    .join('；') || '—'
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function measuresTable(lang: Lang, d: RectificationDetail): Html {
  const L = (zh: string, en: string) => t(lang, zh, en);
  if (!d.measuresList.length)
    return html`<p class="muted">${L('尚无整改措施。', 'No measures yet.')}</p>`;
  return html`<table class="stack measures">
    <thead>
      <tr>
        <th>${L('序号', 'No.')}</th>
        <th>${L('问题', 'Problem')}</th>
        <th>${L('措施', 'Measure')}</th>
        <th>${L('责任单位', 'Unit')}</th>
        <th>${L('责任人', 'Person')}</th>
        <th>${L('完成时限', 'Due')}</th>
        <th>${L('状态', 'State')}</th>
        <th>${L('增加', 'Added')}</th>
      </tr>
    </thead>
    <tbody>
      ${d.measuresList.map(
        (m) =>
          html`<tr data-measure="${m.no}" data-task="${m.taskId}">
            <td data-label="${L('序号', 'No.')}">${m.no}</td>
            <td data-label="${L('问题', 'Problem')}">${m.problem}</td>
            <td data-label="${L('措施', 'Measure')}">
              <a href="${taskHref(m.taskId)}">${m.measure}</a>
            </td>
            <td data-label="${L('责任单位', 'Unit')}">${m.unitName}</td>
            <td data-label="${L('责任人', 'Person')}">${m.personName}</td>
            <td data-label="${L('完成时限', 'Due')}">
              ${m.due ? local(Date.parse(m.due), d.timeZone) : '—'}
            </td>
            <td data-label="${L('状态', 'State')}">${m.state ? label(lang, m.state) : '—'}</td>
            <td data-label="${L('增加', 'Added')}">
              ${m.addedBy ? `${m.addedBy}：${m.addedReason ?? ''}` : L('整改方案', 'the plan')}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function registerRectificationPages(app: FastifyInstance, deps: PortalDeps): void {
  app.get('/campaigns/:campaignId/rectification', async (req, reply) => {
    const { campaignId } = req.params as { campaignId: string };
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const rows = await rectificationsOf(deps, meOf(req), campaignId);
    return sendPage(
      reply,
      req,
      L('整改', 'Rectification'),
      html`<p class="muted">
          ${L('查问题 → 摆原因 → 找差距 → 定措施，审批局审核通过后逐项落实、验收销号。', 'Problems → causes → gaps → measures, each approved by the bureau; then every measure done, accepted and closed.')}
        </p>
        ${rectificationTable(req.lang, campaignId, rows)}`,
    );
  });

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, state: PageState = {}) => {
    const { campaignId, code } = req.params as { campaignId: string; code: string };
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const d = await rectificationDetail(deps, meOf(req), campaignId, code);
    const done = (req.query as { done?: string }).done;
    const doneText: Record<string, [string, string]> = {
      submitted: ['已提交，等待审批局审核。', 'Submitted: the bureau reviews it.'],
      added: ['整改措施已增加，已下达责任单位。', 'The measure is added and sent to its unit.'],
    };
    const cur = d.current;
    return sendPage(
      reply,
      req,
      `${L('整改', 'Rectification')} · ${d.code} ${d.name}`,
      html`${state.notice ?? ''}${done && doneText[done] ? okNotice(L(...doneText[done]!)) : ''}
        <p>
          <a href="${rectificationHref(campaignId)}">${L('全部整改', 'Every rectification')}</a>
        </p>
        <section>
          <dl class="kv">
            <dt>${L('整改状态', 'State')}</dt>
            <dd
              data-testid="rectification-state"
              data-state="${d.state}"
              data-step="${d.step ?? ''}"
            >
              ${rectificationStateText(req.lang, d)}
            </dd>
            <dt>${L('牵头单位', 'Lead unit')}</dt>
            <dd>${d.leadUnitName ?? d.leadUnit}</dd>
            <dt>${L('整改原因', 'Reason')}</dt>
            <dd>${rectificationReasonText(d.reason, req.lang)}</dd>
            <dt>${L('发起时间', 'Started')}</dt>
            <dd>${local(Date.parse(d.startedAt), d.timeZone)}</dd>
            ${
              cur
                ? html`<dt>${L('当前步骤', 'Current step')}</dt>
                    <dd>
                      <a href="${taskHref(cur.taskId)}">${t(req.lang, ...STEP_TITLES[cur.kind])}</a>
                      · ${label(req.lang, cur.state)} · ${L('承办人', 'assignee')}
                      ${cur.assigneeName ?? cur.assignee} · ${L('截止', 'due')}
                      ${local(Date.parse(cur.due), d.timeZone)}
                    </dd>`
                : ''
            }
            ${
              d.closedAt
                ? html`<dt>${L('销号时间', 'Closed')}</dt>
                    <dd>${local(Date.parse(d.closedAt), d.timeZone)}</dd>`
                : ''
            }
          </dl>
        </section>
        <section>
          <h2>${L('整改步骤', 'Steps')}</h2>
          ${stepsList(req.lang, d)}
        </section>
        ${
          cur?.lastReturnReason
            ? html`<div class="notice bad" data-testid="return-reason">
                <strong>${L('退回原因', 'Returned because')}：</strong>${cur.lastReturnReason}
              </div>`
            : ''
        }
        ${
          cur?.state === 'submitted'
            ? html`<div class="notice info">
                ${L('该步骤已提交，等待审批局审核：', 'This step is submitted and awaits the bureau’s review: ')}
                <a href="${taskHref(cur.taskId)}">${L('打开事项', 'open the task')}</a>
              </div>`
            : ''
        }
        ${d.allowed.submitStep && cur ? stepForm(req, d, state) : ''} ${planSection(req.lang, d)}
        <section>
          <h2>${L('整改措施', 'Measures')}</h2>
          ${measuresTable(req.lang, d)}
        </section>
        ${d.allowed.addMeasure ? measureForm(req, d, state) : ''}`,
      state.status ?? 200,
    );
  };

  app.get('/campaigns/:campaignId/rectification/:code', async (req, reply) =>
    detailPage(req, reply),
  );

  const onRectification = (
    form: 'step' | 'measure',
    path: string,
    done: string,
    fn: (req: FastifyRequest, campaignId: string, code: string, body: Body) => Promise<unknown>,
  ) =>
    app.post(`/campaigns/:campaignId/rectification/:code/${path}`, async (req, reply) => {
      const { campaignId, code } = req.params as { campaignId: string; code: string };
      const body = (req.body ?? {}) as Body;
      try {
        await fn(req, campaignId, code, body);
        return reply.code(303).redirect(`${rectificationHref(campaignId, code)}?done=${done}`);
      } catch (e) {
        const r = refusalOnPage(e);
        if (!r) throw e;
        return detailPage(req, reply, {
          form,
          errors: r.errors,
          values: formValues(body),
          notice: r.refused.fields ? undefined : badNotice(r.refused.text(req.lang)),
          status: r.refused.status,
        });
      }
    });

  onRectification('step', 'step', 'submitted', async (req, campaignId, code, body) => {
    const me = meOf(req);
    const d = await rectificationDetail(deps, me, campaignId, code);
    const kind = d.current?.kind ?? 'rectify-problems';
    const { data, rows } = stepFromForm(kind, body);
    return submitStep(
      deps,
      me,
      campaignId,
      code,
      { data, rows, note: str(body.note), requestId: str(body.requestId) },
      req.lang,
    );
  });

  onRectification('measure', 'measures', 'added', (req, campaignId, code, body) =>
    addMeasure(
      deps,
      meOf(req),
      campaignId,
      code,
      {
        problem: str(body.problem),
        measure: str(body.measure),
        unit: str(body.unit),
        person: str(body.person),
        due: str(body.due),
        reason: str(body.reason),
        requestId: str(body.requestId),
      },
      req.lang,
    ),
  );
}
