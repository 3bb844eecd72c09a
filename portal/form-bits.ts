// Small pieces of the verification and rectification forms: a labelled field with its error
// beside it, the hidden CSRF and request-id inputs every post carries, and notices.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Refused } from './errors.ts';
import { html, type Html } from './html.ts';

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
): Html {
  return html`<div class="field ${error ? 'invalid' : ''}" data-field="${name}">
    <label for="${id}">${label}</label>
    ${input} ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
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
