// The evaluator's verification page (信息核验): per indicator in verification, the items verified
// so far and the evidence requests with their state, and the forms to record an outcome and to
// ask a unit for evidence; the enterprise sample drawn for the campaign. Only the evaluator's
// people see it; anybody else gets 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { label } from '../domain/labels.ts';
import { sendPage } from './app.ts';
import {
  recordVerification,
  requestEvidence,
  verificationView,
  type VerificationView,
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
import { html, t, type Html } from './html.ts';
import { meOf } from './pages.ts';
import type { PortalDeps } from './service.ts';
import { light, local, shownTitle, taskHref } from './views.ts';
import { formValues, setFlash, takeFlash } from './form-bits.ts';

export const verificationHref = (campaignId: string) =>
  `/campaigns/${enc(campaignId)}/verification`;

interface FormState {
  code: string;
  form: 'verify' | 'evidence';
  errors: Record<string, string>;
  values: Body;
  notice?: Html;
  status: number;
}

function samplesSection(req: FastifyRequest, v: VerificationView): Html {
  const L = (zh: string, en: string) => t(req.lang, zh, en);
  if (v.samples.length === 0)
    return html`<section data-testid="samples" id="samples">
      <h2>${L('抽样企业', 'Enterprise sample')}</h2>
      <p class="muted">
        ${L('尚未抽样。审批局导入企业全量名单并按比例抽样后，抽中的企业列在这里。', 'No sample drawn yet. Once the bureau has imported the full enterprise list and drawn a sample (`campaign sample`), it is listed here.')}
      </p>
    </section>`;
  const [latest, ...earlier] = v.samples;
  return html`<section data-testid="samples" id="samples">
    <h2>${L('抽样企业', 'Enterprise sample')}</h2>
    <p class="muted">
      ${L(
        `按比例 ${latest!.proportion} 从 ${latest!.population} 家企业中抽取 ${latest!.size} 家（种子 ${latest!.seed}，${latest!.drawnBy} 抽取于 ${local(Date.parse(latest!.drawnAt), v.timeZone)}），各指标核验共用。`,
        `${latest!.size} of ${latest!.population} enterprises at ${latest!.proportion} (seed ${latest!.seed}, drawn by ${latest!.drawnBy} at ${local(Date.parse(latest!.drawnAt), v.timeZone)}), shared by every indicator.`,
      )}
    </p>
    <div class="wide">
      <table class="stack sample">
        <thead>
          <tr>
            <th>${L('统一社会信用代码', 'Credit code')}</th>
            <th>${L('企业名称', 'Name')}</th>
            <th>${L('行业', 'Industry')}</th>
            <th>${L('乡镇', 'Town')}</th>
          </tr>
        </thead>
        <tbody>
          ${latest!.enterprises.map(
            (e) =>
              html`<tr data-enterprise="${e.creditCode}">
                <td data-label="${L('信用代码', 'Credit code')}">${e.creditCode}</td>
                <td data-label="${L('企业名称', 'Name')}">${e.name ?? '—'}</td>
                <td data-label="${L('行业', 'Industry')}">${e.industry ?? '—'}</td>
                <td data-label="${L('乡镇', 'Town')}">${e.town ?? '—'}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${
      earlier.length
        ? html`<p class="muted">
            ${L(`此前另有 ${earlier.length} 次抽样（种子：${earlier.map((s) => s.seed).join('、')}）。`, `${earlier.length} earlier sample(s) (seeds ${earlier.map((s) => s.seed).join(', ')}).`)}
          </p>`
        : ''
    }
  </section>`;
}

function indicatorSection(
  req: FastifyRequest,
  v: VerificationView,
  i: VerificationView['indicators'][number],
  state: FormState | undefined,
): Html {
  const L = (zh: string, en: string) => t(req.lang, zh, en);
  const base = `${verificationHref(v.campaignId)}/${enc(i.code)}`;
  const mine = state?.code === i.code ? state : undefined;
  const err = (form: FormState['form'], name: string) =>
    mine?.form === form ? mine.errors[name] : undefined;
  const ORDER = { verify: ['item', 'outcome', 'note'], evidence: ['unit', 'what'] };
  const firstError = mine ? ORDER[mine.form].find((n) => mine.errors[n]) : undefined;
  const first = (form: FormState['form'], name: string) =>
    mine?.form === form && firstError === name;
  const val = (form: FormState['form'], name: string) =>
    mine?.form === form ? (str(mine.values[name]) ?? '') : '';
  const outcome = val('verify', 'outcome');
  const unit = val('evidence', 'unit');
  const id = (s: string) => `${s}-${i.code}`;
  return html`<section id="ind-${i.code}" data-indicator="${i.code}">
    <h2>
      ${i.code} ${i.name}
      <span class="muted">· ${label(req.lang, i.phase)} · ${label(req.lang, i.state)}</span>
      ${i.flagged ? html`<span class="light red">${L('数据存疑', 'flagged')}</span>` : ''}
    </h2>
    ${mine?.notice ? (firstError ? mine.notice : html`<div id="error">${mine.notice}</div>`) : ''}
    <h3>${L('已核验事项', 'Verified items')}</h3>
    ${
      i.verifications.length
        ? html`<table class="stack verifications">
            <thead>
              <tr>
                <th>${L('事项', 'Item')}</th>
                <th>${L('结果', 'Outcome')}</th>
                <th>${L('说明', 'Note')}</th>
                <th>${L('核验人', 'By')}</th>
                <th>${L('时间', 'At')}</th>
              </tr>
            </thead>
            <tbody>
              ${i.verifications.map(
                (x) =>
                  html`<tr data-verification="${x.seq}" data-outcome="${x.outcome}">
                    <td data-label="${L('事项', 'Item')}">${x.item}</td>
                    <td data-label="${L('结果', 'Outcome')}">
                      ${x.outcome === 'confirmed' ? html`<span class="light green">${L('属实', 'confirmed')}</span>` : html`<span class="light red">${L('有差异', 'discrepant')}</span>`}
                    </td>
                    <td data-label="${L('说明', 'Note')}">${x.note ?? '—'}</td>
                    <td data-label="${L('核验人', 'By')}">${x.actorName ?? x.actor}</td>
                    <td data-label="${L('时间', 'At')}">${local(Date.parse(x.at), v.timeZone)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">${L('尚未核验。', 'Nothing verified yet.')}</p>`
    }
    <h3>${L('印证资料调取', 'Evidence requests')}</h3>
    ${
      i.evidenceRequests.length
        ? html`<table class="stack evidence-requests">
            <thead>
              <tr>
                <th>${L('灯', 'Light')}</th>
                <th>${L('调取内容', 'Asked for')}</th>
                <th>${L('单位', 'Unit')}</th>
                <th>${L('状态', 'State')}</th>
                <th>${L('截止', 'Due')}</th>
              </tr>
            </thead>
            <tbody>
              ${i.evidenceRequests.map(
                (x) =>
                  html`<tr data-task="${x.taskId}" data-state="${x.state}">
                    <td data-label="${L('灯', 'Light')}">${light(req.lang, x.colour)}</td>
                    <td data-label="${L('调取内容', 'Asked for')}">
                      <a href="${taskHref(x.taskId)}">${shownTitle(x.title, x.unit, x.unitName)}</a>
                    </td>
                    <td data-label="${L('单位', 'Unit')}">${x.unitName ?? x.unit}</td>
                    <td data-label="${L('状态', 'State')}">${label(req.lang, x.state)}</td>
                    <td data-label="${L('截止', 'Due')}">
                      ${local(Date.parse(x.due), v.timeZone)}
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">${L('尚未调取印证资料。', 'No evidence asked for yet.')}</p>`
    }
    <div class="actions">
      <form method="post" action="${base}/verify" novalidate>
        <h2>${L('记录核验结果', 'Record a verification')}</h2>
        ${hiddenInputs(req)}
        ${field(
          id('verify-item'),
          'item',
          `${L('核验事项', 'Item verified')} *`,
          html`<input
            type="text"
            id="${id('verify-item')}"
            name="item"
            maxlength="500"
            value="${val('verify', 'item')}"
          />`,
          err('verify', 'item'),
          undefined,
          first('verify', 'item'),
        )}
        ${field(
          id('verify-outcome'),
          'outcome',
          `${L('核验结果', 'Outcome')} *`,
          html`<select id="${id('verify-outcome')}" name="outcome">
            <option value="">${L('请选择', 'choose')}</option>
            <option value="confirmed" ${outcome === 'confirmed' ? html`selected` : ''}>
              ${L('属实', 'confirmed')}
            </option>
            <option value="discrepant" ${outcome === 'discrepant' ? html`selected` : ''}>
              ${L('有差异（将标记并报审批局和县领导）', 'discrepant (flagged to the bureau and the leadership)')}
            </option>
          </select>`,
          err('verify', 'outcome'),
          undefined,
          first('verify', 'outcome'),
        )}
        ${field(
          id('verify-note'),
          'note',
          L('说明（发现的情况）', 'Note (what was found)'),
          html`<textarea id="${id('verify-note')}" name="note">${val('verify', 'note')}</textarea>`,
          err('verify', 'note'),
          undefined,
          first('verify', 'note'),
        )}
        <div><button type="submit" id="${id('verify-submit')}">${L('记录', 'Record')}</button></div>
      </form>
      ${
        i.phase === 'verification'
          ? html`<form method="post" action="${base}/evidence" novalidate>
              <h2>${L('调取印证资料', 'Ask for evidence')}</h2>
              ${hiddenInputs(req)}
              ${field(
                id('evidence-unit'),
                'unit',
                `${L('提供单位', 'Unit')} *`,
                html`<select id="${id('evidence-unit')}" name="unit">
                  <option value="">${L('请选择', 'choose')}</option>
                  ${v.units.map(
                    (u) =>
                      html`<option value="${u.id}" ${unit === u.id ? html`selected` : ''}>
                        ${u.name}${u.id === i.leadUnit ? L('（牵头单位）', ' (lead unit)') : ''}
                      </option>`,
                  )}
                </select>`,
                err('evidence', 'unit'),
                undefined,
                first('evidence', 'unit'),
              )}
              ${field(
                id('evidence-what'),
                'what',
                `${L('调取内容', 'What is asked for')} *`,
                html`<input
                  type="text"
                  id="${id('evidence-what')}"
                  name="what"
                  maxlength="500"
                  value="${val('evidence', 'what')}"
                />`,
                err('evidence', 'what'),
                undefined,
                first('evidence', 'what'),
              )}
              <div>
                <button type="submit" class="secondary" id="${id('evidence-submit')}">
                  ${L('调取', 'Ask')}
                </button>
              </div>
            </form>`
          : ''
      }
    </div>
  </section>`;
}

export function registerVerificationPages(app: FastifyInstance, deps: PortalDeps): void {
  const verificationPage = async (req: FastifyRequest, reply: FastifyReply, state?: FormState) => {
    const { campaignId } = req.params as { campaignId: string };
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const v = await verificationView(deps, meOf(req), campaignId);
    const q = req.query as { done?: string; code?: string };
    // A refused post comes back here by a redirect, its message and values in a flash.
    const flash = state ? null : takeFlash(req, reply, verificationHref(campaignId));
    if (flash && (flash.form === 'verify' || flash.form === 'evidence'))
      state = {
        code: flash.code ?? '',
        form: flash.form,
        errors: flash.errors ?? {},
        values: flash.values ?? {},
        ...(flash.message ? { notice: badNotice(flash.message) } : {}),
        status: 200,
      };
    // A long page on a phone: links to each indicator and the sample at the top.
    const toc = v.indicators.length
      ? html`<nav class="toc" aria-label="${L('本页目录', 'On this page')}">
          <strong>${L('跳转到：', 'Jump to: ')}</strong>
          ${v.indicators.map((i) => html`<a href="#ind-${i.code}">${i.code} ${i.name}</a>`)}
          <a href="#samples">${L('抽样企业', 'Enterprise sample')}</a>
        </nav>`
      : '';
    const doneText: Record<string, [string, string]> = {
      verified: ['核验结果已记录。', 'The verification is recorded.'],
      requested: ['已向单位调取印证资料。', 'The evidence request is sent to the unit.'],
    };
    const done = q.done && doneText[q.done] ? okNotice(L(...doneText[q.done]!)) : html``;
    return sendPage(
      reply,
      req,
      `${L('信息核验', 'Verification')} · ${v.campaignName}`,
      html`${state && !state.code ? (state.notice ?? '') : ''}${done} ${toc}
      ${
        v.indicators.length
          ? v.indicators.map((i) => indicatorSection(req, v, i, state))
          : html`<p class="muted" data-testid="none-in-verification">
              ${L('目前没有处于信息核验阶段的指标。', 'No indicator is in verification now.')}
            </p>`
      }
      ${
        v.elsewhere.length
          ? html`<p class="muted">
              ${L('其他指标', 'Other indicators')}：${v.elsewhere
                .map((e) => `${e.code} ${e.name}（${label(req.lang, e.phase)}）`)
                .join('；')}
            </p>`
          : ''
      }
      ${samplesSection(req, v)}`,
      state?.status ?? 200,
    );
  };

  app.get('/campaigns/:campaignId/verification', async (req, reply) =>
    verificationPage(req, reply),
  );

  const onIndicator = (
    form: FormState['form'],
    done: string,
    fn: (req: FastifyRequest, campaignId: string, code: string, body: Body) => Promise<unknown>,
  ) =>
    app.post(`/campaigns/:campaignId/verification/:code/${form}`, async (req, reply) => {
      const { campaignId, code } = req.params as { campaignId: string; code: string };
      const body = (req.body ?? {}) as Body;
      try {
        await fn(req, campaignId, code, body);
        return reply
          .code(303)
          .redirect(`${verificationHref(campaignId)}?done=${done}#ind-${enc(code)}`);
      } catch (e) {
        const r = refusalOnPage(e);
        if (!r) throw e;
        // Post/redirect/get, refusals too: a reload shows the page, it does not post again.
        setFlash(reply, deps.cfg.secureCookies, {
          path: verificationHref(campaignId),
          status: r.refused.status,
          message: r.refused.text(req.lang),
          errors: r.errors,
          values: formValues(body),
          form,
          code,
        });
        return reply.code(303).redirect(`${verificationHref(campaignId)}#error`);
      }
    });

  onIndicator('verify', 'verified', (req, campaignId, code, body) =>
    recordVerification(
      deps,
      meOf(req),
      campaignId,
      code,
      {
        item: str(body.item),
        outcome: str(body.outcome),
        note: str(body.note),
        requestId: str(body.requestId),
      },
      req.lang,
    ),
  );
  onIndicator('evidence', 'requested', (req, campaignId, code, body) =>
    requestEvidence(
      deps,
      meOf(req),
      campaignId,
      code,
      { unit: str(body.unit), what: str(body.what), requestId: str(body.requestId) },
      req.lang,
    ),
  );
}
