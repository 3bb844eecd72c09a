// The bureau's own pages: 发起考核 (/campaigns/new: a definition or the 任务分工表 uploaded,
// checked with every problem by sheet, row and column or by line, then started) and 考核管理
// (/campaigns/<id>/bureau: close or extend a phase, cancel, import the results and the
// enterprise list, redraw the enterprise sample with a reason, adjust the assessment). Each post
// redirects back with what was done; a refusal shows the page again with each problem beside its
// field or listed by its place. Only the bureau's coordinators and head see them; others get 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { label } from '../domain/labels.ts';
import { PHASE_ORDER } from '../domain/phase-control.ts';
import { sendPage } from './app.ts';
import {
  badNotice,
  enc,
  field,
  hiddenInputs,
  okNotice,
  refusalOnPage,
  type Body,
} from './form-bits.ts';
import { html, t, type Html, type Lang } from './html.ts';
import { filesOf, meOf } from './pages.ts';
import {
  adjustAssessment,
  bureauIn,
  bureauView,
  cancelCampaign,
  checkDefinitionUpload,
  drawEnterpriseSample,
  drawRecordSample,
  importEnterprises,
  importResults,
  mayStartCampaigns,
  movePhase,
  startCampaign,
  type DefinitionCheck,
  type UploadedFile,
} from './roles-work.ts';
import { notFound, Refused } from './errors.ts';
import type { PortalDeps } from './service.ts';
import { local } from './views.ts';

export const bureauHref = (campaignId: string) => `/campaigns/${enc(campaignId)}/bureau`;

/** A text field of a form, urlencoded or multipart (whose fields carry their value). */
export function fieldOf(body: Body, name: string): string | undefined {
  const v = body[name];
  if (typeof v === 'string') return v;
  const part = v as { type?: string; value?: unknown } | undefined;
  return part?.type === 'field' && typeof part.value === 'string' ? part.value : undefined;
}

export async function fileIn(body: unknown): Promise<UploadedFile | undefined> {
  const f = (await filesOf(body))[0];
  return f ? { fileName: f.filename, bytes: f.content } : undefined;
}

export interface FormState {
  form: string;
  errors: Record<string, string>;
  values: Body;
  notice?: Html;
  status: number;
}

/** The problems of a file that are not a field's: listed by their place. */
export function problemList(
  lang: Lang,
  errors: Record<string, string>,
  fieldNames: string[],
): Html {
  const places = Object.entries(errors).filter(([k]) => !fieldNames.includes(k));
  if (!places.length) return html``;
  return html`<ul class="problems" data-testid="problems">
      ${places.map(
        ([place, message]) =>
          html`<li data-place="${place}"><strong>${place}</strong>：${message}</li>`,
      )}
    </ul>
    <p class="muted">
      ${t(lang, '请按以上各处修改文件后重新上传。', 'Correct the file at each place above and upload it again.')}
    </p>`;
}

const err = (state: FormState | undefined, form: string, name: string) =>
  state?.form === form ? state.errors[name] : undefined;
const val = (state: FormState | undefined, form: string, name: string) =>
  state?.form === form ? (fieldOf(state.values, name) ?? '') : '';

function startPage(
  req: FastifyRequest,
  state: FormState | undefined,
  check?: DefinitionCheck,
): Html {
  const lang = req.lang;
  const L = (zh: string, en: string) => t(lang, zh, en);
  const s = check?.summary;
  return html`${state?.notice ?? ''}
    ${
      check?.valid && s
        ? html`<div class="notice ok" role="status" data-testid="check-ok">
            ${L(
              `${check.fileName} 有效：${s.name}（${s.county} ${s.year}），${s.units} 个单位、${s.people} 人、${s.indicators} 项指标。`,
              `${check.fileName} is valid: ${s.name} (${s.county} ${s.year}), ${s.units} units, ${s.people} people, ${s.indicators} indicators.`,
            )}
          </div>`
        : ''
    }
    ${problemList(lang, state?.errors ?? {}, ['file', 'id', 'begin'])}
    <form method="post" action="/campaigns/new" enctype="multipart/form-data" novalidate>
      ${hiddenInputs(req)}
      ${field(
        'start-file',
        'file',
        `${L('考核定义或任务分工表', 'Definition or workbook')} *`,
        html`<input type="file" id="start-file" name="file" accept=".yaml,.yml,.json,.xlsx" />`,
        err(state, 'start', 'file'),
        L(
          '考核定义（.yaml、.yml、.json）或填好的任务分工表（.xlsx）；先检查，再启动。',
          'A campaign definition (.yaml, .yml, .json) or the filled division-of-labour workbook (.xlsx); check it, then start.',
        ),
      )}
      ${field(
        'start-id',
        'id',
        L('考核编号（不填则用文件中的）', 'Campaign id (blank: the file’s)'),
        html`<input
          type="text"
          id="start-id"
          name="id"
          maxlength="63"
          value="${val(state, 'start', 'id')}"
        />`,
        err(state, 'start', 'id'),
      )}
      ${field(
        'start-begin',
        'begin',
        L('启动方式', 'How to start'),
        html`<select id="start-begin" name="begin">
            <option value="">${L('按文件中的日期', 'On the file’s dates')}</option>
            <option value="now" ${val(state, 'start', 'begin') === 'now' ? html`selected` : ''}>
              ${L('演练：各阶段移到现在开始', 'Rehearsal: the phases moved to begin now')}
            </option>
          </select>
          <label
            ><input type="checkbox" name="allowPast" value="on" />
            ${L('已过的阶段也按原日期启动', 'Start on the file’s dates even though a phase has ended')}</label
          >`,
        err(state, 'start', 'begin'),
      )}
      <div>
        <button type="submit" formaction="/campaigns/new/check" class="secondary" id="start-check">
          ${L('只检查', 'Check only')}
        </button>
        <button type="submit" id="start-submit">${L('检查并启动', 'Check and start')}</button>
      </div>
    </form>`;
}

function bureauPage(
  req: FastifyRequest,
  v: Awaited<ReturnType<typeof bureauView>>,
  state: FormState | undefined,
): Html {
  const lang = req.lang;
  const L = (zh: string, en: string) => t(lang, zh, en);
  const base = bureauHref(v.campaignId);
  const section = (form: string, title: string, body: Html, multipart = false) =>
    html`<section id="${form}" data-form="${form}">
      <form
        method="post"
        action="${base}/${form}"
        ${multipart ? html`enctype="multipart/form-data"` : ''}
        novalidate
      >
        <h2>${title}</h2>
        ${state?.form === form ? (state.notice ?? '') : ''}
        ${state?.form === form ? problemList(lang, state.errors, ['file', 'action', 'phase', 'until', 'reason', 'unit', 'points', 'seed', 'indicator']) : ''}
        ${hiddenInputs(req)} ${body}
      </form>
    </section>`;
  const phaseAction = val(state, 'phase', 'action');
  const phaseName = val(state, 'phase', 'phase');
  const unit = val(state, 'adjust', 'unit');
  return html`<p class="muted" data-testid="campaign-phase">
      ${L('当前阶段', 'Phase now')}：${label(lang, v.phase)}${v.status === 'cancelled' ? L('（已撤销）', ' (cancelled)') : ''}
    </p>
    <table class="stack phases">
      <thead>
        <tr>
          <th>${L('阶段', 'Phase')}</th>
          <th>${L('开始', 'Start')}</th>
          <th>${L('结束', 'End')}</th>
        </tr>
      </thead>
      <tbody>
        ${v.phases.map(
          (p) =>
            html`<tr data-phase="${p.phase}">
              <td data-label="${L('阶段', 'Phase')}">${label(lang, p.phase)}</td>
              <td data-label="${L('开始', 'Start')}">${local(Date.parse(p.start), v.timeZone)}</td>
              <td data-label="${L('结束', 'End')}">${local(Date.parse(p.end), v.timeZone)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${section(
      'phase',
      L('阶段调整', 'Move a phase'),
      html`${field(
          'phase-action',
          'action',
          `${L('调整', 'Action')} *`,
          html`<select id="phase-action" name="action">
            <option value="">${L('请选择', 'choose')}</option>
            <option value="close" ${phaseAction === 'close' ? html`selected` : ''}>
              ${L('提前结束进行中的阶段', 'Close the phase under way now')}
            </option>
            <option value="extend" ${phaseAction === 'extend' ? html`selected` : ''}>
              ${L('延期（推迟结束时间）', 'Extend (a later end)')}
            </option>
          </select>`,
          err(state, 'phase', 'action'),
        )}
        ${field(
          'phase-phase',
          'phase',
          `${L('阶段', 'Phase')} *`,
          html`<select id="phase-phase" name="phase">
            <option value="">${L('请选择', 'choose')}</option>
            ${PHASE_ORDER.map((p) => html`<option value="${p}" ${phaseName === p ? html`selected` : ''}>${label(lang, p)}</option>`)}
          </select>`,
          err(state, 'phase', 'phase'),
        )}
        ${field(
          'phase-until',
          'until',
          L('新的结束时间（延期时填写）', 'New end (for an extension)'),
          html`<input
            type="text"
            id="phase-until"
            name="until"
            placeholder="2026-10-20 18:00"
            value="${val(state, 'phase', 'until')}"
          />`,
          err(state, 'phase', 'until'),
          L(
            `${v.timeZone} 时间；只填日期则为当天下班时间。`,
            `${v.timeZone} time; a date alone means the end of that working day.`,
          ),
        )}
        ${field(
          'phase-reason',
          'reason',
          `${L('理由', 'Reason')} *`,
          html`<textarea id="phase-reason" name="reason">
${val(state, 'phase', 'reason')}</textarea>`,
          err(state, 'phase', 'reason'),
        )}
        <div><button type="submit" id="phase-submit">${L('确认调整', 'Move it')}</button></div>`,
    )}
    ${section(
      'results',
      L('导入评价结果', 'Import the results'),
      html`${field(
          'results-file',
          'file',
          `${L('评价结果（CSV：指标代码, 得分, 排名）', 'Results (CSV: 指标代码, 得分, 排名)')} *`,
          html`<input type="file" id="results-file" name="file" accept=".csv" />`,
          err(state, 'results', 'file'),
        )}
        <div><button type="submit" id="results-submit">${L('导入', 'Import')}</button></div>`,
      true,
    )}
    ${section(
      'enterprises',
      L('导入企业全量名单', 'Import the enterprise list'),
      html`<p class="muted">
          ${L(`现有 ${v.enterprises} 家企业；新的名单将整体替换原名单。`, `${v.enterprises} enterprises now; a new list replaces the whole list.`)}
        </p>
        ${field(
          'enterprises-file',
          'file',
          `${L('企业名单（CSV：统一社会信用代码, 企业名称[, 行业, 乡镇, 主管部门, 问卷指标]）', 'Enterprise list (CSV)')} *`,
          html`<input type="file" id="enterprises-file" name="file" accept=".csv" />`,
          err(state, 'enterprises', 'file'),
        )}
        <div><button type="submit" id="enterprises-submit">${L('导入', 'Import')}</button></div>`,
      true,
    )}
    ${section(
      'sample',
      L('企业重新抽样', 'Redraw the enterprise sample'),
      html`<p class="muted" data-testid="official-sample">
          ${
            v.officialSample
              ? L(
                  `正式样本为第 ${v.officialSample.drawNo} 次抽样（${v.officialSample.size} 家，种子 ${v.officialSample.seed}，${v.officialSample.drawnBy} 抽取）。重新抽样须写明理由，新样本成为正式样本，原样本保留。`,
                  `The official sample is draw #${v.officialSample.drawNo} (${v.officialSample.size} enterprises, seed ${v.officialSample.seed}, by ${v.officialSample.drawnBy}). A redraw needs a reason; it becomes the official one and the earlier is kept.`,
                )
              : L(
                  '尚未抽样：首次抽样由第三方评价机构在其页面进行。',
                  'No sample yet: the evaluator draws the first one on its page.',
                )
          }
        </p>
        ${field('sample-seed', 'seed', L('种子（不填则随机）', 'Seed (blank: random)'), html`<input type="text" id="sample-seed" name="seed" maxlength="100" value="${val(state, 'sample', 'seed')}" />`, err(state, 'sample', 'seed'))}
        ${field('sample-reason', 'reason', `${L('重新抽样的理由', 'Reason for the redraw')} *`, html`<textarea id="sample-reason" name="reason">${val(state, 'sample', 'reason')}</textarea>`, err(state, 'sample', 'reason'))}
        <div>
          <button type="submit" class="secondary" id="sample-submit">
            ${L('重新抽样', 'Redraw')}
          </button>
        </div>`,
    )}
    ${section(
      'records',
      L('办件重新抽样', 'Redraw a record sample'),
      html`<p class="muted">
          ${L('某项指标的办件正式样本需要重抽时，写明理由；新样本成为正式样本，原样本保留。', 'When an indicator’s official record sample must be drawn again: say why; the new draw becomes the official one and the earlier is kept.')}
        </p>
        ${field(
          'records-indicator',
          'indicator',
          `${L('指标', 'Indicator')} *`,
          html`<select id="records-indicator" name="indicator">
            <option value="">${L('请选择', 'choose')}</option>
            ${v.indicators.map((i) => html`<option value="${i.code}" ${val(state, 'records', 'indicator') === i.code ? html`selected` : ''}>${i.name}</option>`)}
          </select>`,
          err(state, 'records', 'indicator'),
        )}
        ${field('records-seed', 'seed', L('种子（不填则随机）', 'Seed (blank: random)'), html`<input type="text" id="records-seed" name="seed" maxlength="100" value="${val(state, 'records', 'seed')}" />`, err(state, 'records', 'seed'))}
        ${field('records-reason', 'reason', `${L('重新抽样的理由', 'Reason for the redraw')} *`, html`<textarea id="records-reason" name="reason">${val(state, 'records', 'reason')}</textarea>`, err(state, 'records', 'reason'))}
        <div>
          <button type="submit" class="secondary" id="records-submit">
            ${L('重新抽样', 'Redraw')}
          </button>
        </div>`,
    )}
    ${section(
      'adjust',
      L('考核分值调整', 'Adjust the assessment'),
      html`${
          v.adjustments.length
            ? html`<ul class="adjustments">
                ${v.adjustments.map(
                  (a) =>
                    html`<li data-adjustment="${a.no}">
                      #${a.no} ${a.unitName}
                      ${a.points > 0 ? '+' : ''}${a.points}（${a.reason}；${a.by}，${local(Date.parse(a.at), v.timeZone)}）
                    </li>`,
                )}
              </ul>`
            : ''
        }
        ${field(
          'adjust-unit',
          'unit',
          `${L('职能部门', 'Department')} *`,
          html`<select id="adjust-unit" name="unit">
            <option value="">${L('请选择', 'choose')}</option>
            ${v.departments.map((d) => html`<option value="${d.id}" ${unit === d.id ? html`selected` : ''}>${d.name}</option>`)}
          </select>`,
          err(state, 'adjust', 'unit'),
        )}
        ${field('adjust-points', 'points', `${L('分值（扣分写负数）', 'Points (negative to take)')} *`, html`<input type="text" id="adjust-points" name="points" inputmode="decimal" value="${val(state, 'adjust', 'points')}" />`, err(state, 'adjust', 'points'))}
        ${field('adjust-reason', 'reason', `${L('理由', 'Reason')} *`, html`<textarea id="adjust-reason" name="reason">${val(state, 'adjust', 'reason')}</textarea>`, err(state, 'adjust', 'reason'))}
        <div>
          <button type="submit" id="adjust-submit">${L('记录调整', 'Record it')}</button>
        </div>`,
    )}
    ${section(
      'cancel',
      L('撤销考核', 'Cancel the campaign'),
      html`<p class="muted">
          ${L('撤销后所有未完成的事项均以此理由取消，不能恢复。', 'Every open task is cancelled with the reason; this cannot be undone.')}
        </p>
        ${field('cancel-reason', 'reason', `${L('理由', 'Reason')} *`, html`<textarea id="cancel-reason" name="reason">${val(state, 'cancel', 'reason')}</textarea>`, err(state, 'cancel', 'reason'))}
        <div>
          <button type="submit" class="danger" id="cancel-submit">
            ${L('撤销考核', 'Cancel it')}
          </button>
        </div>`,
    )} `;
}

const DONE: Record<string, [string, string]> = {
  started: ['考核已启动。', 'The campaign is started.'],
  phase: [
    '阶段已调整，相关事项的截止时间随之更新。',
    'The phase is moved; the affected tasks are re-dated.',
  ],
  cancel: [
    '考核已撤销，所有未完成的事项均已取消。',
    'The campaign is cancelled; every open task is cancelled.',
  ],
  results: ['评价结果已导入。', 'The results are imported.'],
  enterprises: ['企业名单已导入。', 'The enterprise list is imported.'],
  sample: [
    '已重新抽样，新样本为正式样本。',
    'The sample is drawn again; the new draw is the official one.',
  ],
  adjust: ['考核调整已记录。', 'The adjustment is recorded.'],
};

export function registerBureauPages(app: FastifyInstance, deps: PortalDeps): void {
  const newPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    state?: FormState,
    check?: DefinitionCheck,
  ) => {
    if (!mayStartCampaigns(meOf(req))) throw notFound();
    return sendPage(
      reply,
      req,
      t(req.lang, '发起考核', 'Start a campaign'),
      startPage(req, state, check),
      state?.status ?? 200,
    );
  };

  app.get('/campaigns/new', async (req, reply) => newPage(req, reply));

  app.post('/campaigns/new/check', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    try {
      const check = await checkDefinitionUpload(deps, meOf(req), await fileIn(body), req.lang);
      const state: FormState = {
        form: 'start',
        errors: check.problems,
        values: body,
        status: check.valid ? 200 : 422,
        ...(check.valid
          ? {}
          : {
              notice: badNotice(
                t(
                  req.lang,
                  `${check.fileName} 有 ${Object.keys(check.problems).length} 处错误：`,
                  `${check.fileName} has ${Object.keys(check.problems).length} problem(s):`,
                ),
              ),
            }),
      };
      return newPage(req, reply, state, check);
    } catch (e) {
      const r = refusalOnPage(e);
      if (!r) throw e;
      return newPage(req, reply, {
        form: 'start',
        errors: r.errors,
        values: body,
        notice: badNotice(r.refused.text(req.lang)),
        status: r.refused.status,
      });
    }
  });

  app.post('/campaigns/new', async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    try {
      const r = await startCampaign(
        deps,
        meOf(req),
        {
          file: await fileIn(body),
          id: fieldOf(body, 'id'),
          begin: fieldOf(body, 'begin'),
          allowPast: fieldOf(body, 'allowPast') === 'on',
        },
        req.lang,
      );
      // The starter is on the new roster: the page is theirs once the worker has recorded it.
      return reply.code(303).redirect(`${bureauHref(r.campaignId)}?done=started`);
    } catch (e) {
      const r = refusalOnPage(e);
      if (!r) throw e;
      return newPage(req, reply, {
        form: 'start',
        errors: r.errors,
        values: body,
        notice: badNotice(r.refused.text(req.lang)),
        status: r.refused.status,
      });
    }
  });

  const campaignPage = async (req: FastifyRequest, reply: FastifyReply, state?: FormState) => {
    const { campaignId } = req.params as { campaignId: string };
    const v = await bureauView(deps, meOf(req), campaignId);
    const q = req.query as { done?: string };
    const done = q.done && DONE[q.done] ? okNotice(t(req.lang, ...DONE[q.done]!)) : html``;
    return sendPage(
      reply,
      req,
      `${t(req.lang, '考核管理', 'Campaign management')} · ${v.name}`,
      html`${done}${bureauPage(req, v, state)}`,
      state?.status ?? 200,
    );
  };

  app.get('/campaigns/:campaignId/bureau', async (req, reply) => campaignPage(req, reply));

  const onForm = (
    form: string,
    fn: (req: FastifyRequest, campaignId: string, body: Body) => Promise<unknown>,
  ) =>
    app.post(`/campaigns/:campaignId/bureau/${form}`, async (req, reply) => {
      const { campaignId } = req.params as { campaignId: string };
      const body = (req.body ?? {}) as Body;
      try {
        await fn(req, campaignId, body);
        return reply.code(303).redirect(`${bureauHref(campaignId)}?done=${form}#${form}`);
      } catch (e) {
        const r = refusalOnPage(e);
        if (!r) throw e;
        return campaignPage(req, reply, {
          form,
          errors: r.errors,
          values: body,
          notice: badNotice(r.refused.text(req.lang)),
          status: r.refused.status,
        });
      }
    });

  onForm('phase', (req, campaignId, body) =>
    movePhase(
      deps,
      meOf(req),
      campaignId,
      {
        action: fieldOf(body, 'action'),
        phase: fieldOf(body, 'phase'),
        until: fieldOf(body, 'until'),
        reason: fieldOf(body, 'reason'),
        requestId: fieldOf(body, 'requestId'),
      },
      req.lang,
    ),
  );
  onForm('cancel', (req, campaignId, body) =>
    cancelCampaign(
      deps,
      meOf(req),
      campaignId,
      { reason: fieldOf(body, 'reason'), requestId: fieldOf(body, 'requestId') },
      req.lang,
    ),
  );
  onForm('results', async (req, campaignId, body) =>
    importResults(
      deps,
      meOf(req),
      campaignId,
      { file: await fileIn(body), requestId: fieldOf(body, 'requestId') },
      req.lang,
    ),
  );
  onForm('enterprises', async (req, campaignId, body) =>
    importEnterprises(deps, meOf(req), campaignId, { file: await fileIn(body) }, req.lang),
  );
  onForm('sample', async (req, campaignId, body) => {
    // The bureau's form is for a redraw: without a reason nothing is drawn.
    bureauIn(meOf(req), campaignId);
    const reason = fieldOf(body, 'reason')?.trim();
    if (!reason) {
      const why = t(req.lang, '请写明重新抽样的理由。', 'Say why the sample is drawn again.');
      throw new Refused(422, '请写明重新抽样的理由。', 'Say why the sample is drawn again.', {
        reason: why,
      });
    }
    return drawEnterpriseSample(
      deps,
      meOf(req),
      campaignId,
      { seed: fieldOf(body, 'seed'), reason },
      req.lang,
    );
  });
  onForm('records', async (req, campaignId, body) => {
    bureauIn(meOf(req), campaignId);
    const fields: Record<string, string> = {};
    const code = fieldOf(body, 'indicator') ?? '';
    const reason = fieldOf(body, 'reason')?.trim();
    if (!code) fields.indicator = t(req.lang, '请选择指标。', 'Choose the indicator.');
    if (!reason)
      fields.reason = t(req.lang, '请写明重新抽样的理由。', 'Say why the sample is drawn again.');
    if (Object.keys(fields).length)
      throw new Refused(
        422,
        '填写的内容有误，请按各项提示修改后再提交（尚未提交）。',
        'Some values are not valid: correct them as shown and submit again (nothing was sent).',
        fields,
      );
    return drawRecordSample(
      deps,
      meOf(req),
      campaignId,
      code,
      { seed: fieldOf(body, 'seed'), reason },
      req.lang,
    );
  });
  onForm('adjust', (req, campaignId, body) =>
    adjustAssessment(
      deps,
      meOf(req),
      campaignId,
      {
        unit: fieldOf(body, 'unit'),
        points: fieldOf(body, 'points'),
        reason: fieldOf(body, 'reason'),
      },
      req.lang,
    ),
  );
}
