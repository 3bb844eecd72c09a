// Small pieces of the verification and rectification forms: a labelled field with its error
// beside it, the hidden CSRF and request-id inputs every post carries, and notices.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Refused } from './errors.ts';
import { Html, html } from './html.ts';

export type Body = Record<string, unknown>;
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The CSRF token of the session and a fresh request id (a form posted twice applies once). */
export function hiddenInputs(req: FastifyRequest): Html {
  return html`<input type="hidden" name="_csrf" value="${req.session?.csrf ?? ''}" />
    <input type="hidden" name="requestId" value="${randomUUID()}" />`;
}

/** A field: its label, the input, the error beside it (when there is one), a hint. */
export function field(
  id: string,
  name: string,
  label: string,
  input: Html,
  error?: string,
  hint?: string,
  /** The first field in error of its page: it takes the focus and the `#error` anchor. */
  first = false,
): Html {
  const shown = first
    ? new Html(input.text.replace(/^\s*<(input|select|textarea)\b/, '<$1 autofocus'))
    : input;
  return html`<div
    class="field ${error ? 'invalid' : ''}"
    data-field="${name}"
    ${first ? html`id="error"` : ''}
  >
    <label for="${id}">${label}</label>
    ${shown} ${error ? html`<p class="error" id="error-${id}" role="alert">${error}</p>` : ''}
    ${hint ? html`<div class="muted">${hint}</div>` : ''}
  </div>`;
}

export const okNotice = (text: string) => html`<div class="notice ok" role="status">${text}</div>`;
export const badNotice = (text: string) => html`<div class="notice bad" role="alert">${text}</div>`;

/** A refusal for the page it came from: per-field problems stay with their fields. */
export function refusalOnPage(
  e: unknown,
): { errors: Record<string, string>; refused: Refused } | null {
  if (!(e instanceof Refused) || e.status === 404 || e.status === 401) return null;
  return { errors: e.fields ?? {}, refused: e };
}

export const enc = encodeURIComponent;

/**
 * What a refused post leaves for the page it redirects to (post/redirect/get): the message, the
 * per-field problems and the values as typed, kept in a short-lived cookie for that page only,
 * so that a reload shows the page again instead of posting the form once more.
 */
export interface Flash {
  /** The page (path) it is for. */
  path: string;
  status: number;
  message?: string;
  errors?: Record<string, string>;
  values?: Record<string, string>;
  /** Which form of the page it came from (a page with several forms). */
  form?: string;
  code?: string;
}

export const FLASH_COOKIE = 'portal_flash';
/** Cookies stay under 4 KB: values that would not fit are dropped, the messages kept. */
const FLASH_MAX = 3500;

export function setFlash(reply: FastifyReply, secure: boolean, flash: Flash): void {
  let text = Buffer.from(JSON.stringify(flash)).toString('base64url');
  if (text.length > FLASH_MAX)
    text = Buffer.from(JSON.stringify({ ...flash, values: undefined })).toString('base64url');
  if (text.length > FLASH_MAX)
    text = Buffer.from(
      JSON.stringify({
        path: flash.path,
        status: flash.status,
        message: flash.message?.slice(0, 500),
      }),
    ).toString('base64url');
  reply.setCookie(FLASH_COOKIE, text, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: 600,
  });
}

const strings = (v: unknown): Record<string, string> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(
        Object.entries(v as Record<string, unknown>).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      )
    : undefined;

/** The flash left for this page, once: it is cleared as it is read. */
export function takeFlash(req: FastifyRequest, reply: FastifyReply, path: string): Flash | null {
  const raw = req.cookies[FLASH_COOKIE];
  if (!raw) return null;
  reply.clearCookie(FLASH_COOKIE, { path: '/' });
  try {
    const f = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (f.path !== path || typeof f.status !== 'number') return null;
    return {
      path,
      status: f.status,
      ...(typeof f.message === 'string' ? { message: f.message } : {}),
      ...(strings(f.errors) ? { errors: strings(f.errors)! } : {}),
      ...(strings(f.values) ? { values: strings(f.values)! } : {}),
      ...(typeof f.form === 'string' ? { form: f.form } : {}),
      ...(typeof f.code === 'string' ? { code: f.code } : {}),
    };
  } catch {
    return null;
  }
}

/** The fields of a form body as text (files and the CSRF token left out). */
export function formValues(body: Body): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '_csrf' || k === 'requestId') continue;
    const s = typeof v === 'string' ? v : (v as { value?: unknown } | null)?.value;
    if (typeof s === 'string') out[k] = s;
  }
  return out;
}
