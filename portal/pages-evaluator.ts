// The evaluator's own page (评价机构工作台, /campaigns/<id>/evaluator): the enterprise sample drawn
// (the official draw, seeded), each indicator's business-record sample (by proportion or count,
// by unit when asked) and its site visits and interviews, with the forms to draw and to record.
// A redraw needs the bureau's reason (on the bureau's page). Each post redirects back with what
// was done; a refusal shows the page again with each problem beside its field. Only the
// evaluator's people see it; anybody else gets 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { label } from '../domain/labels.ts';
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
import { html, t, type Html } from './html.ts';
import { meOf } from './pages.ts';
import { fieldOf, problemList, type FormState } from './pages-bureau.ts';
import {
  drawEnterpriseSample,
  drawRecordSample,
  evaluatorView,
  recordVisit,
  type EvaluatorView,
} from './roles-work.ts';
import type { PortalDeps } from './service.ts';
import { local } from './views.ts';

export const evaluatorHref = (campaignId: string) => `/campaigns/${enc(campaignId)}/evaluator`;

const DONE: Record<string, [string, string]> = {
  sample: ['企业抽样已完成。', 'The enterprise sample is drawn.'],
  records: ['办件抽样已完成。', 'The record sample is drawn.'],
  visit: ['实地核查或访谈已记录。', 'The site visit or interview is recorded.'],
};

function evaluatorPage(req: FastifyRequest, v: EvaluatorView, state: FormState | undefined): Html {
  const L = (zh: string, en: string) => t(req.lang, zh, en);
  const base = evaluatorHref(v.campaignId);
  const mine = (form: string, code?: string) =>
    state?.form === (code ? `${form}:${code}` : form) ? state : undefined;
  const err = (form: string, name: string, code?: string) => mine(form, code)?.errors[name];
  const val = (form: string, name: string, code?: string) => {
    const s = mine(form, code);
    return s ? (fieldOf(s.values, name) ?? '') : '';
  };
  const s = v.enterpriseSample;
  return html`<section id="sample" data-form="sample">
      <h2>${L('企业抽样', 'Enterprise sample')}</h2>
      ${mine('sample')?.notice ?? ''}
      <p class="muted" data-testid="enterprise-sample">
        ${
          s
            ? L(
                `正式样本：第 ${s.drawNo} 次抽样，从 ${s.population} 家中抽取 ${s.size} 家（种子 ${s.seed}，${s.drawnBy} 抽取于 ${local(Date.parse(s.drawnAt), v.timeZone)}）。`,
                `Official sample: draw #${s.drawNo}, ${s.size} of ${s.population} enterprises (seed ${s.seed}, by ${s.drawnBy} at ${local(Date.parse(s.drawnAt), v.timeZone)}).`,
              )
            : L(
                `尚未抽样；企业全量名单共 ${v.enterprises} 家。`,
                `No sample yet; the enterprise list holds ${v.enterprises}.`,
              )
        }
      </p>
      ${
        s
          ? html`<p class="muted">
              ${L('重新抽样须由审批局写明理由后进行。', 'A redraw is the bureau’s, with a reason.')}
            </p>`
          : html`<form method="post" action="${base}/sample" novalidate>
              ${hiddenInputs(req)}
              ${field('sample-seed', 'seed', L('种子（不填则随机，记录在案）', 'Seed (blank: random; recorded)'), html`<input type="text" id="sample-seed" name="seed" maxlength="100" value="${val('sample', 'seed')}" />`, err('sample', 'seed'))}
              <div>
                <button type="submit" id="sample-submit">
                  ${L('按比例抽样', 'Draw the sample')}
                </button>
              </div>
            </form>`
      }
    </section>
    ${v.indicators.map((i) => {
      const d = i.recordSample;
      const kind = val('visit', 'kind', i.code);
      const outcome = val('visit', 'outcome', i.code);
      const id = (x: string) => `${x}-${i.code}`;
      return html`<section id="ind-${i.code}" data-indicator="${i.code}">
        <h2>${i.code} ${i.name} <span class="muted">· ${label(req.lang, i.phase)}</span></h2>
        <h3>${L('办件抽样', 'Record sample')}</h3>
        ${mine('records', i.code)?.notice ?? ''}
        <p class="muted" data-testid="record-sample-${i.code}">
          ${
            d
              ? L(
                  `正式样本：第 ${d.drawNo} 次抽样，从 ${d.population} 条中抽取 ${d.size} 条（种子 ${d.seed}，${d.drawnBy} 抽取${d.reason ? `，理由：${d.reason}` : ''}）。`,
                  `Official sample: draw #${d.drawNo}, ${d.size} of ${d.population} records (seed ${d.seed}, by ${d.drawnBy}${d.reason ? `; ${d.reason}` : ''}).`,
                )
              : L('尚未抽样。', 'No sample yet.')
          }
        </p>
        <form method="post" action="${base}/${enc(i.code)}/records" novalidate>
          ${hiddenInputs(req)}
          ${field(id('records-seed'), 'seed', L('种子（不填则沿用正式样本的或随机）', 'Seed (blank: the official draw’s, or random)'), html`<input type="text" id="${id('records-seed')}" name="seed" maxlength="100" value="${val('records', 'seed', i.code)}" />`, err('records', 'seed', i.code))}
          ${field(id('records-proportion'), 'proportion', L('抽样比例（不填则用考核的比例）', 'Proportion (blank: the campaign’s)'), html`<input type="text" id="${id('records-proportion')}" name="proportion" inputmode="decimal" value="${val('records', 'proportion', i.code)}" />`, err('records', 'proportion', i.code))}
          ${field(id('records-count'), 'count', L('或抽取条数', 'Or a count'), html`<input type="text" id="${id('records-count')}" name="count" inputmode="numeric" value="${val('records', 'count', i.code)}" />`, err('records', 'count', i.code))}
          <label
            ><input type="checkbox" name="byUnit" value="on" />
            ${L('按单位分层抽取', 'Stratified by unit')}</label
          >
          <div>
            <button type="submit" class="secondary" id="${id('records-submit')}">
              ${L('抽取办件', 'Draw records')}
            </button>
          </div>
        </form>
        <h3>${L('实地核查与访谈', 'Site visits and interviews')}</h3>
        ${
          i.visits.length
            ? html`<ul class="visits">
                ${i.visits.map(
                  (x) =>
                    html`<li data-visit-outcome="${x.outcome}">
                      ${x.kind === 'site-visit' ? L('实地核查', 'Site visit') : L('访谈', 'Interview')}
                      ${x.date}
                      ${x.place}：${x.outcome === 'confirmed' ? L('属实', 'confirmed') : L('有差异', 'discrepant')}${x.note ? `（${x.note}）` : ''}
                      · ${x.by}
                    </li>`,
                )}
              </ul>`
            : html`<p class="muted">${L('尚无记录。', 'None recorded.')}</p>`
        }
        ${mine('visit', i.code)?.notice ?? ''}
        <form method="post" action="${base}/${enc(i.code)}/visit" novalidate>
          ${hiddenInputs(req)}
          ${field(
            id('visit-kind'),
            'kind',
            `${L('方式', 'Kind')} *`,
            html`<select id="${id('visit-kind')}" name="kind">
              <option value="">${L('请选择', 'choose')}</option>
              <option value="site-visit" ${kind === 'site-visit' ? html`selected` : ''}>
                ${L('实地核查', 'Site visit')}
              </option>
              <option value="interview" ${kind === 'interview' ? html`selected` : ''}>
                ${L('访谈', 'Interview')}
              </option>
            </select>`,
            err('visit', 'kind', i.code),
          )}
          ${field(id('visit-date'), 'date', `${L('日期', 'Day')} *`, html`<input type="date" id="${id('visit-date')}" name="date" value="${val('visit', 'date', i.code)}" />`, err('visit', 'date', i.code))}
          ${field(id('visit-place'), 'place', `${L('地点或访谈对象', 'Where, or whom')} *`, html`<input type="text" id="${id('visit-place')}" name="place" maxlength="500" value="${val('visit', 'place', i.code)}" />`, err('visit', 'place', i.code))}
          ${field(
            id('visit-outcome'),
            'outcome',
            `${L('核验结果', 'Outcome')} *`,
            html`<select id="${id('visit-outcome')}" name="outcome">
              <option value="">${L('请选择', 'choose')}</option>
              <option value="confirmed" ${outcome === 'confirmed' ? html`selected` : ''}>
                ${L('属实', 'confirmed')}
              </option>
              <option value="discrepant" ${outcome === 'discrepant' ? html`selected` : ''}>
                ${L('有差异（将标记并报审批局和县领导）', 'discrepant (flagged to the bureau and the leadership)')}
              </option>
            </select>`,
            err('visit', 'outcome', i.code),
          )}
          ${field(id('visit-note'), 'note', L('说明（发现的情况）', 'Note (what was found)'), html`<textarea id="${id('visit-note')}" name="note">${val('visit', 'note', i.code)}</textarea>`, err('visit', 'note', i.code))}
          <div>
            <button type="submit" id="${id('visit-submit')}">${L('记录', 'Record')}</button>
          </div>
        </form>
        ${state && mine('visit', i.code) ? problemList(req.lang, state.errors, ['kind', 'date', 'place', 'outcome', 'note']) : ''}
      </section>`;
    })}`;
}

export function registerEvaluatorPages(app: FastifyInstance, deps: PortalDeps): void {
  const evaluatorPageOf = async (req: FastifyRequest, reply: FastifyReply, state?: FormState) => {
    const { campaignId } = req.params as { campaignId: string };
    const v = await evaluatorView(deps, meOf(req), campaignId);
    const q = req.query as { done?: string };
    const done = q.done && DONE[q.done] ? okNotice(t(req.lang, ...DONE[q.done]!)) : html``;
    return sendPage(
      reply,
      req,
      `${t(req.lang, '评价机构工作台', 'Evaluator’s work')} · ${v.name}`,
      html`${done}${evaluatorPage(req, v, state)}`,
      state?.status ?? 200,
    );
  };

  app.get('/campaigns/:campaignId/evaluator', async (req, reply) => evaluatorPageOf(req, reply));

  const onPost = (
    url: string,
    form: (code: string | undefined) => string,
    done: string,
    fn: (
      req: FastifyRequest,
      campaignId: string,
      code: string | undefined,
      body: Body,
    ) => Promise<unknown>,
  ) =>
    app.post(url, async (req, reply) => {
      const { campaignId, code } = req.params as { campaignId: string; code?: string };
      const body = (req.body ?? {}) as Body;
      try {
        await fn(req, campaignId, code, body);
        const anchor = code ? `#ind-${enc(code)}` : '#sample';
        return reply.code(303).redirect(`${evaluatorHref(campaignId)}?done=${done}${anchor}`);
      } catch (e) {
        const r = refusalOnPage(e);
        if (!r) throw e;
        return evaluatorPageOf(req, reply, {
          form: form(code),
          errors: r.errors,
          values: body,
          notice: badNotice(r.refused.text(req.lang)),
          status: r.refused.status,
        });
      }
    });

  onPost(
    '/campaigns/:campaignId/evaluator/sample',
    () => 'sample',
    'sample',
    (req, campaignId, _code, body) =>
      drawEnterpriseSample(deps, meOf(req), campaignId, { seed: fieldOf(body, 'seed') }, req.lang),
  );
  onPost(
    '/campaigns/:campaignId/evaluator/:code/records',
    (c) => `records:${c}`,
    'records',
    (req, campaignId, code, body) =>
      drawRecordSample(
        deps,
        meOf(req),
        campaignId,
        code!,
        {
          seed: fieldOf(body, 'seed'),
          proportion: fieldOf(body, 'proportion'),
          count: fieldOf(body, 'count'),
          byUnit: fieldOf(body, 'byUnit'),
        },
        req.lang,
      ),
  );
  onPost(
    '/campaigns/:campaignId/evaluator/:code/visit',
    (c) => `visit:${c}`,
    'visit',
    (req, campaignId, code, body) =>
      recordVisit(
        deps,
        meOf(req),
        campaignId,
        code!,
        {
          kind: fieldOf(body, 'kind'),
          date: fieldOf(body, 'date'),
          place: fieldOf(body, 'place'),
          outcome: fieldOf(body, 'outcome'),
          note: fieldOf(body, 'note'),
          requestId: fieldOf(body, 'requestId'),
        },
        req.lang,
      ),
  );
}
