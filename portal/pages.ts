// The pages people work in: 我的待办, the task page (questionnaire, evidence, submit, extension,
// the history), the bureau's review queue, the campaign board, the ledger (with xlsx/csv),
// the daily dispatch digest, unit performance and the bureau's account management.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { heldProjectionsOf, readBoard } from '../client/commands/board.ts';
import { percent } from '../domain/questionnaire.ts';
import {
  dispatchDigest,
  dispatchSheet,
  ledgerRows,
  ledgerSheet,
} from '../client/commands/reports.ts';
import { dispatchPublicitySheets } from '../client/commands/publicity-sheet.ts';
import { assessmentReport, assessmentSheets } from '../client/commands/assessment.ts';
import { csvText, xlsxBuffer } from '../client/export.ts';
import { label } from '../domain/labels.ts';
import { formatLocal } from '../domain/time.ts';
import { Q, run } from '../db/portal.ts';
import { canReadBoards, isBureauOfficer, membershipIn, type Me } from './access.ts';
import { sendPage } from './app.ts';
import { notFound, Refused } from './errors.ts';
import { createToken, listTokens, revokeToken } from './tokens.ts';
import { rectificationsOfBoard } from './campaign-work.ts';
import { rectificationHref, rectificationTable } from './pages-rectification.ts';
import { html, t, type Html } from './html.ts';
import {
  campaignRoster,
  createInvitations,
  requireBureauOfficer,
  revokeAccount,
} from './invitations.ts';
import {
  decideTask,
  downloadEvidence,
  extendTask,
  myTasks,
  reassignTask,
  reviewQueue,
  submitTask,
  taskDetail,
  uploadEvidence,
  type PortalDeps,
  type Upload,
} from './service.ts';
import {
  evidenceList,
  fieldsForm,
  light,
  local,
  localWithZone,
  taskHref,
  roleTitle,
  shownTitle,
  taskTable,
  timeline,
  escalationText,
} from './views.ts';
import { formValues, setFlash, takeFlash } from './form-bits.ts';

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function meOf(req: FastifyRequest): Me {
  if (!req.me) throw new Refused(401, '请先登录。', 'Sign in first.');
  return req.me;
}

/** Files of a multipart body (attachFieldsToBody), buffered within the configured limit. */
export async function filesOf(body: unknown): Promise<Upload[]> {
  const b = (body ?? {}) as Record<string, unknown>;
  const out: Upload[] = [];
  for (const v of Object.values(b)) {
    for (const part of Array.isArray(v) ? v : [v]) {
      const p = part as { type?: string; filename?: string; toBuffer?: () => Promise<Buffer> };
      if (p?.type === 'file' && p.toBuffer)
        out.push({ filename: p.filename ?? '', content: await p.toBuffer() });
    }
  }
  return out;
}

export function registerPages(app: FastifyInstance, deps: PortalDeps): void {
  const { pool } = deps;
  const campaignTimeZone = async (campaignId: string) =>
    (
      await pool.query<{ time_zone: string }>(
        'SELECT time_zone FROM campaigns WHERE campaign_id = $1',
        [campaignId],
      )
    ).rows[0]?.time_zone ?? 'Asia/Shanghai';

  app.get('/tasks', async (req, reply) => {
    const me = meOf(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const all = (req.query as { all?: string }).all === '1';
    const rows = await myTasks(deps, me, all);
    const mine = rows.filter((r) => r.assignee === me.personId);
    const others = rows.filter((r) => r.assignee !== me.personId);
    const places = me.memberships.map((m) => `${m.campaignName} · ${m.unitName}`).join('；');
    return sendPage(
      reply,
      req,
      L('我的待办', 'My tasks'),
      html`<p class="muted">
          ${places || L('您不在任何考核评价的名册中。', 'You are on no campaign roster.')}
        </p>
        <p>
          <a href="/tasks${all ? '' : '?all=1'}"
            >${all ? L('只看未办结', 'Open only') : L('含已办结', 'Include finished')}</a
          >
        </p>
        ${me.memberships
          .filter((m) => isBureauOfficer(m) || m.role === 'head' || m.role === 'deputy')
          .map(
            (m) =>
              html`<p>
                <a href="/campaigns/${encodeURIComponent(m.campaignId)}/tokens"
                  >${L('接口令牌', 'API tokens')}（${m.campaignName}）</a
                >
              </p>`,
          )}
        <h2>${L('由我承办', 'Assigned to me')}（${mine.length}）</h2>
        ${taskTable(req.lang, mine)}
        <h2>${L('本单位及可见的其他事项', 'Other tasks I can see')}（${others.length}）</h2>
        ${taskTable(req.lang, others, { unit: true })}
        <section>
          <form method="post" action="/sign-out-everywhere">
            <input type="hidden" name="_csrf" value="${req.session!.csrf}" />
            <span class="muted">${L('在别的设备上登录过？', 'Signed in on other devices?')}</span>
            <button type="submit" class="secondary">
              ${L('退出所有设备', 'Sign out everywhere')}
            </button>
          </form>
        </section>`,
    );
  });

  const taskPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    taskId: string,
    state: {
      errors?: Record<string, string>;
      values?: Record<string, unknown>;
      notice?: Html;
      status?: number;
    } = {},
  ) => {
    const me = meOf(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const d = await taskDetail(deps, me, taskId);
    const task = d.task;
    // A refused post comes back here by a redirect, its message and values in a flash.
    const flash = req.method === 'GET' ? takeFlash(req, reply, taskHref(taskId)) : null;
    if (flash) {
      const values: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(flash.values ?? {}))
        if (k.startsWith('f.')) values[k.slice(2)] = v;
      if (flash.values?.note !== undefined) values.__note = flash.values.note;
      state = {
        errors: flash.errors ?? {},
        values: Object.keys(values).length ? values : undefined,
        // Problems of the questionnaire's fields show beside them (the first takes `#error`);
        // any other refusal shows at the top.
        notice:
          flash.message && !d.requirements.fields.some((f) => flash.errors?.[f.key])
            ? refusedNotice(req, flash.message)
            : undefined,
      };
    }
    const tz = task.time_zone;
    const csrf = req.session!.csrf;
    // A rectification step's data (problems, causes, …) is entered on the rectification page.
    const isStep = !!d.requirements.step || task.kind.startsWith('rectify-');
    const canSubmit = d.allowed.includes('submit') && !isStep;
    const values = state.values ?? d.lastData ?? {};
    const done = (req.query as { done?: string }).done;
    const doneText: Record<string, [string, string]> = {
      // A task that needs no review is done once submitted.
      submitted:
        task.review && task.state !== 'done'
          ? [
              '已提交，等待审核。审核结果会在本页和“我的待办”中显示。',
              'Submitted, awaiting review: the outcome shows here and in My tasks.',
            ]
          : ['已完成。该事项无需审核，已办结。', 'Done: this task needs no review.'],
      approved: ['已审核通过。', 'Approved.'],
      returned: ['已退回，承办单位将收到退回原因。', 'Returned: the unit sees the reason.'],
      extended: ['延期已办理。', 'Extension recorded.'],
      reassigned: ['已转办。', 'Handed over.'],
      uploaded: [
        '佐证材料已上传。填好下方内容后点“提交”即可报送。',
        'Evidence uploaded: fill in the form below and submit.',
      ],
    };
    const okNotice =
      done && doneText[done]
        ? html`<div class="notice ok" role="status">${L(...doneText[done]!)}</div>`
        : '';
    const action = (name: string) => `${taskHref(taskId)}/${name}`;
    const stepLink =
      isStep && task.indicator
        ? html`<div class="notice info" data-testid="step-link">
            ${L('整改步骤在整改页面填写和查看：', 'Rectification steps are entered and shown on the rectification page: ')}
            <a href="${rectificationHref(task.campaign_id, task.indicator)}"
              >${L('打开整改页面', 'open the rectification')}</a
            >
          </div>`
        : '';
    const body = html` ${state.notice ?? ''}${okNotice}${stepLink}
      <section>
        <dl class="kv">
          <dt>${L('状态', 'State')}</dt>
          <dd data-testid="state">
            ${label(req.lang, task.state)} ${light(req.lang, d.summary.colour)}
          </dd>
          <dt>${L('单位', 'Unit')}</dt>
          <dd>${task.unit_name ?? task.unit_id}</dd>
          <dt>${L('承办人', 'Assignee')}</dt>
          <dd>${task.assignee_name ?? task.assignee}</dd>
          <dt>${L('截止', 'Due')}</dt>
          <dd>${localWithZone(task.due_at, tz, req.lang)}</dd>
          <dt>${L('督办', 'Escalation')}</dt>
          <dd>${escalationText(req.lang, task.escalation_level)}</dd>
          ${
            task.pending_extension
              ? html`<dt>${L('延期申请', 'Extension asked')}</dt>
                  <dd>
                    ${local(task.pending_extension.until, tz)}（${task.pending_extension.reason}）
                  </dd>`
              : ''
          }
        </dl>
      </section>
      ${
        task.state === 'returned' && task.last_return_reason
          ? html`<div class="notice bad" data-testid="return-reason">
              <strong>${L('退回原因', 'Returned because')}：</strong>${task.last_return_reason}
            </div>`
          : ''
      }
      ${
        d.guide
          ? html`<section>
              <h2>${L('填报指引', 'Filling guide')}</h2>
              <p>${d.guide}</p>
            </section>`
          : ''
      }
      <section>
        <h2>${L('佐证材料', 'Evidence')}</h2>
        ${d.evidenceList.length ? html`<p class="muted">${L('应提供', 'Expected')}：${d.evidenceList.join('、')}</p>` : ''}
        ${evidenceList(req.lang, d.evidence)}
        ${
          canSubmit
            ? html`<form method="post" action="${action('evidence')}" enctype="multipart/form-data">
                <input type="hidden" name="_csrf" value="${csrf}" />
                <label for="files"
                  >${L('上传文件（PDF、图片、Office、OFD）', 'Upload files (PDF, images, Office, OFD)')}</label
                >
                <input type="file" id="files" name="files" multiple />
                <div><button type="submit" class="secondary">${L('上传', 'Upload')}</button></div>
              </form>`
            : ''
        }
      </section>
      ${
        canSubmit
          ? html`<section>
              <h2>
                ${d.requirements.fields.length ? L('填报', 'Questionnaire') : L('报告完成', 'Report completion')}
              </h2>
              ${
                state.errors && Object.keys(state.errors).length
                  ? html`<div class="notice bad" role="alert">
                      ${L('填报内容有误，请按各项提示修改（尚未提交）。', 'Some values are not valid: correct them as shown (nothing was sent).')}
                    </div>`
                  : ''
              }
              <form method="post" action="${action('submit')}" novalidate>
                <input type="hidden" name="_csrf" value="${csrf}" />
                <input type="hidden" name="requestId" value="${randomUUID()}" />
                ${fieldsForm(req.lang, d.requirements.fields, values, state.errors ?? {})}
                <label for="note">${L('说明', 'Note')}${d.requirements.note ? ' *' : ''}</label>
                <textarea id="note" name="note">${str(state.values?.__note) ?? ''}</textarea>
                <div><button type="submit" id="submit">${L('提交', 'Submit')}</button></div>
              </form>
            </section>`
          : d.lastData && (d.requirements.fields.length > 0 || d.changes.length > 0)
            ? html`<section>
                <h2>${L('已提交的数据', 'Submitted data')}</h2>
                <dl class="kv">
                  ${d.requirements.fields.map(
                    (f) =>
                      html`<dt>${f.label}</dt>
                        <dd data-field="${f.key}">
                          ${String(d.lastData?.[f.key] ?? '—')}${f.unit ? ` ${f.unit}` : ''}
                        </dd>`,
                  )}
                </dl>
                ${
                  d.changes.length
                    ? html`<h2>
                          ${L('与上次提交相比的变化', 'Changes since the last submission')}
                        </h2>
                        <ul class="changes">
                          ${d.changes.map(
                            (c) =>
                              html`<li>
                                ${c.label}：${String(c.before ?? '—')} →
                                <strong>${String(c.after ?? '—')}</strong>
                              </li>`,
                          )}
                        </ul>`
                    : ''
                }
              </section>`
            : ''
      }
      <div class="actions">
        ${
          d.allowed.includes('approve')
            ? html`<form method="post" action="${action('approve')}">
                <h2>${L('审核通过', 'Approve')}</h2>
                <input type="hidden" name="_csrf" value="${csrf}" />
                <input type="hidden" name="requestId" value="${randomUUID()}" />
                <label for="approve-note">${L('意见（可不填）', 'Remark (optional)')}</label>
                <input type="text" id="approve-note" name="note" />
                <div><button type="submit" id="approve">${L('通过', 'Approve')}</button></div>
              </form>`
            : ''
        }
        ${
          d.allowed.includes('return')
            ? html`<form method="post" action="${action('return')}">
                <h2>${L('退回', 'Return')}</h2>
                <input type="hidden" name="_csrf" value="${csrf}" />
                <input type="hidden" name="requestId" value="${randomUUID()}" />
                <div class="field ${state.errors?.reason ? 'invalid' : ''}">
                  <label for="reason">${L('退回原因', 'Reason')} *</label>
                  <textarea id="reason" name="reason"></textarea>
                  ${state.errors?.reason ? html`<p class="error">${state.errors.reason}</p>` : ''}
                </div>
                <div>
                  <button type="submit" id="return" class="danger">${L('退回', 'Return')}</button>
                </div>
              </form>`
            : ''
        }
        ${
          d.allowed.includes('extend')
            ? html`<form method="post" action="${action('extend')}">
                <h2>${L('申请延期', 'Ask for more time')}</h2>
                <input type="hidden" name="_csrf" value="${csrf}" />
                <input type="hidden" name="requestId" value="${randomUUID()}" />
                <div class="field ${state.errors?.until ? 'invalid' : ''}">
                  <label for="until">${L('延至', 'Until')}</label>
                  <input type="datetime-local" id="until" name="until" />
                  ${state.errors?.until ? html`<p class="error">${state.errors.until}</p>` : ''}
                </div>
                <label for="extend-reason">${L('原因', 'Reason')} *</label>
                <textarea id="extend-reason" name="reason"></textarea>
                <div><button type="submit" class="secondary">${L('提交申请', 'Ask')}</button></div>
              </form>`
            : ''
        }
        ${
          d.allowed.includes('reassign')
            ? html`<form method="post" action="${action('reassign')}">
                <h2>${L('转办', 'Hand over')}</h2>
                <input type="hidden" name="_csrf" value="${csrf}" />
                <input type="hidden" name="requestId" value="${randomUUID()}" />
                <label for="to">${L('转给本单位', 'To a person of the unit')}</label>
                <select id="to" name="to">
                  ${d.teammates.map((p) => html`<option value="${p.id}">${p.name}</option>`)}
                </select>
                <div>
                  <button type="submit" class="secondary">${L('转办', 'Hand over')}</button>
                </div>
              </form>`
            : ''
        }
      </div>
      <section>
        <h2>${L('办理记录', 'History')}</h2>
        ${timeline(req.lang, d.events, tz)}
      </section>`;
    return sendPage(
      reply,
      req,
      shownTitle(task.title, task.unit_id, task.unit_name),
      body,
      state.status ?? 200,
    );
  };

  app.get('/tasks/:taskId', async (req, reply) =>
    taskPage(req, reply, (req.params as { taskId: string }).taskId),
  );

  const refusedNotice = (req: FastifyRequest, text: string, anchor = true) =>
    html`<div class="notice bad" role="alert" ${anchor ? html`id="error"` : ''}>${text}</div>`;

  /** Runs an action from a task page; a refusal shows on the task page itself. */
  const onTask = (
    name: string,
    fn: (req: FastifyRequest, me: Me, taskId: string, body: Body) => Promise<string>,
  ) =>
    app.post(`/tasks/:taskId/${name}`, async (req, reply) => {
      const { taskId } = req.params as { taskId: string };
      const me = meOf(req);
      const body = (req.body ?? {}) as Body;
      try {
        const done = await fn(req, me, taskId, body);
        return reply.code(303).redirect(`${taskHref(taskId)}?done=${done}`);
      } catch (e) {
        if (!(e instanceof Refused) || e.status === 404) throw e;
        // Post/redirect/get, refusals too: the task page shows the message and the values kept,
        // and a reload does not post the form again. `#error` brings the first problem into view.
        setFlash(reply, deps.cfg.secureCookies, {
          path: taskHref(taskId),
          status: e.status,
          message: e.text(req.lang),
          ...(e.fields ? { errors: e.fields } : {}),
          values: formValues(body),
        });
        return reply.code(303).redirect(`${taskHref(taskId)}#error`);
      }
    });

  onTask('submit', async (req, me, taskId, body) => {
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (k.startsWith('f.')) values[k.slice(2)] = v;
    await submitTask(
      deps,
      me,
      taskId,
      { note: str(body.note), values, requestId: str(body.requestId) },
      req.lang,
    );
    return 'submitted';
  });
  onTask('approve', async (_req, me, taskId, body) => {
    await decideTask(deps, me, taskId, 'approve', {
      note: str(body.note),
      requestId: str(body.requestId),
    });
    return 'approved';
  });
  onTask('return', async (_req, me, taskId, body) => {
    await decideTask(deps, me, taskId, 'return', {
      reason: str(body.reason),
      requestId: str(body.requestId),
    });
    return 'returned';
  });
  onTask('extend', async (_req, me, taskId, body) => {
    await extendTask(deps, me, taskId, {
      until: str(body.until) ?? '',
      reason: str(body.reason) ?? '',
      requestId: str(body.requestId),
    });
    return 'extended';
  });
  onTask('reassign', async (_req, me, taskId, body) => {
    await reassignTask(deps, me, taskId, {
      to: str(body.to) ?? '',
      requestId: str(body.requestId),
    });
    return 'reassigned';
  });
  onTask('evidence', async (_req, me, taskId, body) => {
    await uploadEvidence(deps, me, taskId, await filesOf(body));
    return 'uploaded';
  });

  app.get('/evidence/:fileId', async (req, reply) => {
    const f = await downloadEvidence(deps, meOf(req), (req.params as { fileId: string }).fileId);
    return reply
      .type(f.mime)
      .header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}`)
      .header('Cache-Control', 'private, no-store')
      .send(f.content);
  });

  app.get('/review', async (req, reply) => {
    const me = meOf(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    if (!me.memberships.some(isBureauOfficer)) throw notFound();
    const rows = await reviewQueue(deps, me);
    return sendPage(
      reply,
      req,
      L('审核队列', 'Review queue'),
      html`<p class="muted">
          ${L('各单位已提交、等待审核的事项。打开事项可查看数据与变化，并通过或退回。', 'Work the units have submitted for review. Open one to see the data and the changes, then approve or return it.')}
        </p>
        ${taskTable(req.lang, rows, { unit: true })}`,
    );
  });

  // ---- boards ----

  const boardAccess = (req: FastifyRequest) => {
    const { campaignId } = req.params as { campaignId: string };
    const m = membershipIn(meOf(req), campaignId);
    if (!canReadBoards(m)) throw notFound();
    return { campaignId, m: m! };
  };

  const boardNav = (req: FastifyRequest, campaignId: string, bureau: boolean) => {
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const base = `/campaigns/${encodeURIComponent(campaignId)}`;
    return html`<p class="actions">
      <a href="${base}">${L('看板', 'Board')}</a>
      <a href="${base}/ledger">${L('整改台账', 'Ledger')}</a>
      <a href="${base}/dispatch">${L('每日调度', 'Daily dispatch')}</a>
      <a href="${base}/performance">${L('单位履职记录', 'Unit performance')}</a>
      <a href="${base}/assessment">${L('单位考核', 'Assessment')}</a>
      <a href="${base}/rectification">${L('整改', 'Rectification')}</a>
      ${bureau ? html`<a href="${base}/accounts">${L('账号管理', 'Accounts')}</a>` : ''}
    </p>`;
  };

  app.get('/campaigns/:campaignId', async (req, reply) => {
    const { campaignId, m } = boardAccess(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const b = await readBoard(pool, campaignId);
    // Records PostgreSQL refused for good: the board may be incomplete until they are retried.
    const held = isBureauOfficer(m) ? await heldProjectionsOf(deps.temporal, campaignId) : null;
    return sendPage(
      reply,
      req,
      `${L('看板', 'Board')} · ${b.name}`,
      html`${boardNav(req, campaignId, isBureauOfficer(m))}
        ${
          held?.length
            ? html`<p class="error" role="alert">
                ${L(
                  `数据库拒收了 ${held.length} 个事项的记录，看板可能不全。请联系系统管理员排除原因后重新写入。`,
                  `The database refused what ${held.length} workflow(s) recorded, so the board may be incomplete; ask the system's administrator to fix the cause and write them again.`,
                )}
              </p>`
            : ''
        }
        <p>${L('阶段', 'Phase')}：${label(req.lang, b.phase)}</p>
        <table class="stack">
          <thead>
            <tr>
              <th>${L('指标', 'Indicator')}</th>
              <th>${L('阶段', 'Phase')}</th>
              <th>${L('状态', 'State')}</th>
              <th>${L('最近截止', 'Next due')}</th>
              <th>${L('逾期', 'Overdue')}</th>
              <th>${L('督办', 'Escalation')}</th>
              <th>${L('灯', 'Light')}</th>
            </tr>
          </thead>
          <tbody>
            ${b.indicators.map(
              (i) =>
                html`<tr>
                  <td data-label="${L('指标', 'Indicator')}">
                    ${i.code} ${i.name}${i.flagged ? ' ⚑' : ''}
                  </td>
                  <td data-label="${L('阶段', 'Phase')}">${label(req.lang, i.phase)}</td>
                  <td data-label="${L('状态', 'State')}">${label(req.lang, i.state)}</td>
                  <td data-label="${L('最近截止', 'Next due')}">
                    ${i.due ? formatLocal(Date.parse(i.due), b.timeZone).slice(0, 16) : '—'}
                  </td>
                  <td data-label="${L('逾期', 'Overdue')}">${i.overdue}</td>
                  <td data-label="${L('督办', 'Escalation')}">
                    ${escalationText(req.lang, i.escalationLevel)}
                  </td>
                  <td data-label="${L('灯', 'Light')}">${light(req.lang, i.colour)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${
          b.questionnaire
            ? html`<p class="questionnaire-rate">
                ${L('企业问卷答卷率', 'Enterprise questionnaire response rate')}：${percent(b.questionnaire.total)}
                (${b.questionnaire.total.answered}/${b.questionnaire.total.expected})
                ${b.questionnaire.byUnit.map((u) => html` · ${u.unit} ${percent(u)}`)}
              </p>`
            : ''
        }
        <h2>${L('整改', 'Rectification')}</h2>
        ${rectificationTable(req.lang, campaignId, await rectificationsOfBoard(deps, campaignId))}`,
    );
  });

  const sheetTable = (sheet: {
    columns: { header: string }[];
    rows: (string | number | null)[][];
  }) =>
    html`<div class="wide">
      <table class="stack">
        <thead>
          <tr>
            ${sheet.columns.map((c) => html`<th>${c.header}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${sheet.rows.map(
            (r) =>
              html`<tr>
                ${r.map(
                  (v, i) =>
                    html`<td data-label="${sheet.columns[i]?.header ?? ''}">
                      ${String(v ?? '')
                        .split('\n')
                        .map((line, j) => html`${j ? html`<br />` : ''}${line}`)}
                    </td>`,
                )}
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;

  const download = async (
    reply: FastifyReply,
    format: string | undefined,
    sheet: Parameters<typeof csvText>[0][number] | Parameters<typeof csvText>[0],
    base: string,
  ) => {
    const sheets = Array.isArray(sheet) ? sheet : [sheet];
    if (format === 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'Content-Disposition',
          `attachment; filename*=UTF-8''${encodeURIComponent(base)}.csv`,
        )
        .send(csvText(sheets));
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header(
        'Content-Disposition',
        `attachment; filename*=UTF-8''${encodeURIComponent(base)}.xlsx`,
      )
      .send(await xlsxBuffer(sheets));
  };

  app.get('/campaigns/:campaignId/ledger', async (req, reply) => {
    const { campaignId, m } = boardAccess(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const { rows, name } = await ledgerRows(campaignId, pool);
    const sheet = ledgerSheet(rows, name, req.lang);
    const format = (req.query as { format?: string }).format;
    if (format === 'csv' || format === 'xlsx')
      return download(reply, format, sheet, `${L('整改台账', 'ledger')}-${campaignId}`);
    const base = `/campaigns/${encodeURIComponent(campaignId)}/ledger`;
    return sendPage(
      reply,
      req,
      sheet.title,
      html`${boardNav(req, campaignId, isBureauOfficer(m))}
        <p>
          <a class="button" href="${base}?format=xlsx">${L('下载 Excel', 'Download Excel')}</a>
          <a class="button" href="${base}?format=csv">${L('下载 CSV', 'Download CSV')}</a>
        </p>
        ${rows.length ? sheetTable(sheet) : html`<p class="muted">${L('尚无整改措施。', 'No rectification measures yet.')}</p>`}`,
    );
  });

  // The units' assessment (考核): the same computation and sheets as `campaign report assessment`.
  app.get('/campaigns/:campaignId/assessment', async (req, reply) => {
    const { campaignId, m } = boardAccess(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const report = await assessmentReport(pool, campaignId);
    const sheets = assessmentSheets(report, req.lang);
    const format = (req.query as { format?: string }).format;
    if (format === 'csv' || format === 'xlsx')
      return download(reply, format, sheets, `${L('单位考核', 'assessment')}-${campaignId}`);
    const base = `/campaigns/${encodeURIComponent(campaignId)}/assessment`;
    return sendPage(
      reply,
      req,
      sheets[0]!.title,
      html`${boardNav(req, campaignId, isBureauOfficer(m))}
        <p class="muted">
          ${L(`截至 ${report.asOf}；扣分上限 ${report.policy.cap} 分。调整由审批局以命令 campaign assessment adjust 记录，附理由。`, `As of ${report.asOf}; deductions capped at ${report.policy.cap}. The bureau records adjustments with campaign assessment adjust, each with its reason.`)}
        </p>
        <p>
          <a class="button" href="${base}?format=xlsx">${L('下载 Excel', 'Download Excel')}</a>
          <a class="button" href="${base}?format=csv">${L('下载 CSV', 'Download CSV')}</a>
        </p>
        ${sheetTable(sheets[0]!)}
        <h2>${sheets[1]!.title}</h2>
        ${sheets[1]!.rows.length ? sheetTable(sheets[1]!) : html`<p class="muted">${L('尚无扣分或加分。', 'No deductions or bonuses yet.')}</p>`}`,
    );
  });

  app.get('/campaigns/:campaignId/dispatch', async (req, reply) => {
    const { campaignId, m } = boardAccess(req);
    const date = (req.query as { date?: string }).date;
    const digest = await dispatchDigest(
      pool,
      campaignId,
      date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined,
    );
    const format = (req.query as { format?: string }).format;
    // On the page, tasks and people by their names and titles (the CLI's sheet keeps the ids).
    const [roster, titles] = await Promise.all([
      campaignRoster(pool, campaignId),
      pool.query<{ task_id: string; title: string; unit_id: string }>(
        'SELECT task_id, title, unit_id FROM tasks WHERE campaign_id = $1',
        [campaignId],
      ),
    ]);
    const unitNames = new Map(roster.map((p) => [p.unit_id, p.unit_name]));
    const sheet = dispatchSheet(
      digest,
      req.lang,
      format === 'csv' || format === 'xlsx'
        ? undefined
        : {
            task: new Map(
              titles.rows.map((r) => [
                r.task_id,
                `${shownTitle(r.title, r.unit_id, unitNames.get(r.unit_id) ?? null)}（${unitNames.get(r.unit_id) ?? r.unit_id}）`,
              ]),
            ),
            person: new Map(roster.map((p) => [p.person_id, p.name])),
          },
    );
    if (format === 'csv' || format === 'xlsx')
      return download(reply, format, sheet, `dispatch-${campaignId}-${digest.date}`);
    // The publicity per department (宣传引导), when the digest counted it.
    const [publicity] = dispatchPublicitySheets(digest, req.lang);
    return sendPage(
      reply,
      req,
      sheet.title,
      html`${boardNav(req, campaignId, isBureauOfficer(m))}${sheetTable(sheet)}${
        publicity
          ? html`<h2>${publicity.title}</h2>
              ${sheetTable(publicity)}`
          : ''
      }`,
    );
  });

  app.get('/campaigns/:campaignId/performance', async (req, reply) => {
    const { campaignId, m } = boardAccess(req);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const r = await run<Record<string, string | number>>(pool, Q.unitPerformance, [campaignId]);
    const sheet = {
      columns: [
        { header: L('单位', 'Unit') },
        { header: L('事项', 'Tasks') },
        { header: L('按时办结', 'Done on time') },
        { header: L('逾期办结', 'Done late') },
        { header: L('逾期未办', 'Open overdue') },
        { header: L('一级督办', 'Escalations L1') },
        { header: L('二级督办', 'L2') },
        { header: L('三级及以上', 'L3+') },
      ],
      rows: r.rows.map((x) => [
        String(x.unit_name ?? x.unit_id),
        Number(x.tasks),
        Number(x.done_on_time),
        Number(x.done_late),
        Number(x.open_overdue),
        Number(x.escalations_level1),
        Number(x.escalations_level2),
        Number(x.escalations_level3_plus),
      ]),
    };
    return sendPage(
      reply,
      req,
      L('单位履职记录', 'Unit performance'),
      html`${boardNav(req, campaignId, isBureauOfficer(m))}${sheetTable(sheet)}`,
    );
  });

  // ---- accounts (the bureau) ----

  const accountsPage = async (req: FastifyRequest, reply: FastifyReply, notice?: Html) => {
    const { campaignId } = req.params as { campaignId: string };
    const me = meOf(req);
    const m = membershipIn(me, campaignId);
    if (!m || !isBureauOfficer(m)) throw notFound();
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const roster = await campaignRoster(pool, campaignId);
    const accounts = new Map(
      (
        await run<{
          person_id: string;
          status: string | null;
          password_set_at: Date | null;
          locked_until: Date | null;
          invitation_expires_at: Date | null;
        }>(pool, Q.accountsOfCampaign, [campaignId])
      ).rows.map((a) => [a.person_id, a]),
    );
    const csrf = req.session!.csrf;
    const base = `/campaigns/${encodeURIComponent(campaignId)}/accounts`;
    const units = [...new Map(roster.map((p) => [p.unit_id, p.unit_name])).entries()];
    const statusOf = (id: string) => {
      const a = accounts.get(id);
      if (a?.status === 'revoked') return L('已撤销', 'revoked');
      if (a?.locked_until && a.locked_until.getTime() > Date.now()) return L('已锁定', 'locked');
      if (a?.password_set_at) return L('已启用', 'active');
      if (a?.invitation_expires_at) return L('已邀请', 'invited');
      return L('未邀请', 'not invited');
    };
    return sendPage(
      reply,
      req,
      L('账号管理', 'Accounts'),
      html`${boardNav(req, campaignId, true)}${notice ?? ''}
        <section>
          <form method="post" action="${base}/invite">
            <input type="hidden" name="_csrf" value="${csrf}" />
            <label for="unit">${L('单位', 'Unit')}</label>
            <select id="unit" name="unit">
              <option value="">${L('全部单位', 'every unit')}</option>
              ${units.map(([id, name]) => html`<option value="${id}">${name}</option>`)}
            </select>
            <label for="person">${L('人员（可不选）', 'Person (optional)')}</label>
            <select id="person" name="person">
              <option value="">${L('该单位全部人员', 'everyone of the unit')}</option>
              ${roster.map((p) => html`<option value="${p.person_id}">${p.name}（${p.unit_name}）</option>`)}
            </select>
            <div><button type="submit">${L('发放邀请', 'Issue invitations')}</button></div>
            <p class="muted">
              ${L('每个链接只能使用一次；重新邀请即重置密码，原链接作废。', 'Each link works once; a new invitation resets the password and withdraws the earlier link.')}
            </p>
          </form>
        </section>
        <table class="stack">
          <thead>
            <tr>
              <th>${L('人员', 'Person')}</th>
              <th>${L('单位', 'Unit')}</th>
              <th>${L('角色', 'Role')}</th>
              <th>${L('账号', 'Account')}</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${roster.map(
              (p) =>
                html`<tr>
                  <td data-label="${L('人员', 'Person')}">
                    ${p.name}
                    <span class="muted"
                      >${L('登录账号', 'account')} <code>${p.person_id}</code></span
                    >
                  </td>
                  <td data-label="${L('单位', 'Unit')}">${p.unit_name}</td>
                  <td data-label="${L('角色', 'Role')}" data-role="${p.role}">
                    ${roleTitle(req.lang, p.role)}
                  </td>
                  <td data-label="${L('账号', 'Account')}">${statusOf(p.person_id)}</td>
                  <td>
                    ${
                      p.person_id !== me.personId && accounts.get(p.person_id)?.status === 'active'
                        ? html`<form
                            method="post"
                            action="${base}/${encodeURIComponent(p.person_id)}/revoke"
                          >
                            <input type="hidden" name="_csrf" value="${csrf}" /><button
                              type="submit"
                              class="danger"
                            >
                              ${L('撤销', 'Revoke')}
                            </button>
                          </form>`
                        : ''
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>`,
    );
  };

  app.get('/campaigns/:campaignId/accounts', async (req, reply) => accountsPage(req, reply));

  app.post('/campaigns/:campaignId/accounts/invite', async (req, reply) => {
    const { campaignId } = req.params as { campaignId: string };
    const me = meOf(req);
    const m = membershipIn(me, campaignId);
    if (!m || !isBureauOfficer(m)) throw notFound();
    const body = (req.body ?? {}) as Body;
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const tz = await campaignTimeZone(campaignId);
    try {
      const invites = await createInvitations(pool, {
        campaignId,
        by: me.personId,
        unit: str(body.unit) || undefined,
        person: str(body.person) || undefined,
        ttlMs: deps.cfg.inviteTtlMs,
        publicUrl: deps.cfg.publicUrl,
      });
      return accountsPage(
        req,
        reply,
        html`<div class="notice ok">
          <p>
            ${L('邀请链接如下（只显示这一次，请逐一转交本人）：', 'The invitation links (shown this once; hand each to its person):')}
          </p>
          <ul class="invites">
            ${invites.map((i) => html`<li>${i.name}（${i.unitName}，${L('登录账号', 'account')} <code>${i.personId}</code>）：<code>${i.link}</code> <span class="muted">${L('有效期至', 'valid until')} ${localWithZone(Date.parse(i.expiresAt), tz, req.lang)}</span></li>`)}
          </ul>
        </div>`,
      );
    } catch (e) {
      if (e instanceof Refused)
        return accountsPage(req, reply, html`<div class="notice bad">${e.text(req.lang)}</div>`);
      throw e;
    }
  });

  app.post('/campaigns/:campaignId/accounts/:personId/revoke', async (req, reply) => {
    const { campaignId, personId } = req.params as { campaignId: string; personId: string };
    const me = meOf(req);
    await requireBureauOfficer(pool, campaignId, me.personId).catch(() => {
      throw notFound();
    });
    try {
      await revokeAccount(pool, { campaignId, by: me.personId, person: personId });
      return accountsPage(
        req,
        reply,
        html`<div class="notice ok">
          ${t(req.lang, `已撤销账号 ${personId}：此人不能再登录，已登录的设备均已退出。如需恢复，重新发放邀请即可。`, `Revoked the account of ${personId}: they can no longer sign in, and every session of theirs has ended. Issue a new invitation to restore it.`)}
        </div>`,
      );
    } catch (e) {
      if (e instanceof Refused)
        return accountsPage(req, reply, html`<div class="notice bad">${e.text(req.lang)}</div>`);
      throw e;
    }
  });

  // ---- API tokens (the bureau, or a unit's head or deputy) ----

  const tokensPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    notice?: Html,
    status = 200,
  ) => {
    const { campaignId } = req.params as { campaignId: string };
    const me = meOf(req);
    const m = membershipIn(me, campaignId);
    const manager = !!m && (isBureauOfficer(m) || m.role === 'head' || m.role === 'deputy');
    if (!m || !manager) throw notFound();
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const roster = (await campaignRoster(pool, campaignId)).filter(
      (p) => isBureauOfficer(m) || p.unit_id === m.unitId,
    );
    const units = [...new Map(roster.map((p) => [p.unit_id, p.unit_name])).entries()];
    const everyone = await campaignRoster(pool, campaignId);
    const unitName = new Map(everyone.map((p) => [p.unit_id, p.unit_name]));
    const personName = new Map(everyone.map((p) => [p.person_id, p.name]));
    const tokens = await listTokens(pool, me, campaignId);
    const csrf = req.session!.csrf;
    const base = `/campaigns/${encodeURIComponent(campaignId)}/tokens`;
    const tz = await campaignTimeZone(campaignId);
    const when = (iso: string | null) => (iso ? localWithZone(Date.parse(iso), tz, req.lang) : '—');
    return sendPage(
      reply,
      req,
      L('接口令牌', 'API tokens'),
      html`${notice ?? ''}
        <section>
          <form method="post" action="${base}">
            <input type="hidden" name="_csrf" value="${csrf}" />
            <label for="name">${L('用途（系统名称）', 'Purpose (the system)')}</label>
            <input type="text" id="name" name="name" maxlength="100" required />
            <label for="unit">${L('单位', 'Unit')}</label>
            <select id="unit" name="unit">
              ${units.map(([id, name]) => html`<option value="${id}">${name}</option>`)}
            </select>
            <label for="person">${L('负责人（本单位人员）', 'Person who answers for it')}</label>
            <select id="person" name="person">
              ${roster.map((p) => html`<option value="${p.person_id}">${p.name}（${p.unit_name}）</option>`)}
            </select>
            <div><button type="submit">${L('发放令牌', 'Issue a token')}</button></div>
            <p class="muted">
              ${L('令牌只显示一次，仅保存其哈希；只能访问本单位的事项。', 'The token is shown once and stored only as its hash; it reaches only its unit’s tasks.')}
            </p>
          </form>
        </section>
        <table class="stack">
          <thead>
            <tr>
              <th>${L('用途', 'Purpose')}</th>
              <th>${L('单位', 'Unit')}</th>
              <th>${L('负责人', 'Person')}</th>
              <th>${L('发放', 'Issued')}</th>
              <th>${L('最近使用', 'Last used')}</th>
              <th>${L('状态', 'State')}</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${tokens.map(
              (k) =>
                html`<tr>
                  <td data-label="${L('用途', 'Purpose')}">${k.name}</td>
                  <td data-label="${L('单位', 'Unit')}">${unitName.get(k.unit) ?? k.unit}</td>
                  <td data-label="${L('负责人', 'Person')}">
                    ${personName.get(k.person) ?? k.person}
                  </td>
                  <td data-label="${L('发放', 'Issued')}">
                    ${when(k.createdAt)}（${personName.get(k.createdBy) ?? k.createdBy}）
                  </td>
                  <td data-label="${L('最近使用', 'Last used')}">${when(k.lastUsedAt)}</td>
                  <td data-label="${L('状态', 'State')}">
                    ${k.revokedAt ? L('已撤销', 'revoked') : L('有效', 'active')}
                  </td>
                  <td>
                    ${
                      k.revokedAt
                        ? ''
                        : html`<form method="post" action="${base}/${k.tokenId}/revoke">
                            <input type="hidden" name="_csrf" value="${csrf}" /><button
                              type="submit"
                              class="danger"
                            >
                              ${L('撤销', 'Revoke')}
                            </button>
                          </form>`
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>`,
      status,
    );
  };

  app.get('/campaigns/:campaignId/tokens', async (req, reply) => tokensPage(req, reply));

  app.post('/campaigns/:campaignId/tokens', async (req, reply) => {
    const { campaignId } = req.params as { campaignId: string };
    const me = meOf(req);
    const body = (req.body ?? {}) as Body;
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const name = (str(body.name) ?? '').trim();
    if (!name || name.length > 100)
      return tokensPage(
        req,
        reply,
        html`<div class="notice bad" role="alert">
          ${L('请填写令牌用途（不超过 100 字）。', 'Give the token a purpose (at most 100 characters).')}
        </div>`,
        422,
      );
    try {
      const k = await createToken(pool, me, {
        campaignId,
        unit: str(body.unit) ?? '',
        person: str(body.person) ?? '',
        name,
      });
      return tokensPage(
        req,
        reply,
        html`<div class="notice ok" role="status">
          <p>
            ${L('新令牌如下（只显示这一次，请立即保存到对方系统）：', 'The new token (shown this once: store it in the system now):')}
          </p>
          <p><code data-testid="new-token">${k.token}</code></p>
        </div>`,
      );
    } catch (e) {
      if (e instanceof Refused && e.status !== 404)
        return tokensPage(
          req,
          reply,
          html`<div class="notice bad" role="alert">${e.text(req.lang)}</div>`,
          e.status,
        );
      throw e;
    }
  });

  app.post('/campaigns/:campaignId/tokens/:tokenId/revoke', async (req, reply) => {
    const { campaignId, tokenId } = req.params as { campaignId: string; tokenId: string };
    await revokeToken(pool, meOf(req), campaignId, tokenId);
    return tokensPage(
      req,
      reply,
      html`<div class="notice ok" role="status">
        ${t(req.lang, '令牌已撤销。', 'The token was revoked.')}
      </div>`,
    );
  });
}
