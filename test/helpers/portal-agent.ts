// A person at the portal over HTTP, with a cookie jar as a browser or a program has: form posts
// (urlencoded or multipart, with the session's CSRF token unless told otherwise), JSON calls
// with the X-CSRF-Token header, pages read as text; and the account made from an invitation.
import type { Browser } from 'playwright-core';
import { expect } from 'vitest';
import type { TestPortal } from './portal.ts';

export const PASSWORD = 'correct horse battery';

export class Agent {
  cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly portal: TestPortal) {}
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(`${this.portal.url}${path}`, { ...init, headers, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const value = v.join('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(k!.trim());
      else this.cookies.set(k!.trim(), value);
    }
    return r;
  }
  json(path: string, body: unknown, csrf = this.csrf): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      body: JSON.stringify(body),
    });
  }
  form(path: string, fields: Record<string, string>, csrf: string | null = this.csrf) {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...(csrf === null ? {} : { _csrf: csrf }),
        ...fields,
      }).toString(),
    });
  }
  /** A form with a file, as the page's multipart form sends it. */
  upload(
    path: string,
    file: { name: string; content: Uint8Array | string } | null,
    fields: Record<string, string> = {},
    csrf: string | null = this.csrf,
  ) {
    const fd = new FormData();
    if (csrf !== null) fd.set('_csrf', csrf);
    for (const [k, v] of Object.entries(fields)) fd.set(k, v);
    if (file) fd.set('file', new Blob([file.content]), file.name);
    return this.fetch(path, { method: 'POST', body: fd });
  }
  async page(path: string): Promise<{ status: number; text: string }> {
    const r = await this.fetch(path);
    return { status: r.status, text: await r.text() };
  }
}

/** Signs `person` in through an invitation made with `invite` (the CLI's `accounts invite`). */
export async function accountOf(
  portal: TestPortal,
  person: string,
  invite: (person: string) => Promise<string>,
): Promise<Agent> {
  const link = await invite(person);
  const anon = new Agent(portal);
  const path = new URL(link).pathname;
  const form = await (await anon.fetch(path)).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
  const accepted = await anon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, password: PASSWORD, confirm: PASSWORD }).toString(),
  });
  expect(accepted.status).toBe(303);
  const a = new Agent(portal);
  const s = await a.json('/api/session', { personId: person, password: PASSWORD }, '');
  expect(s.status).toBe(200);
  a.csrf = ((await s.json()) as { csrfToken: string }).csrfToken;
  return a;
}

/** The text of the error beside a field of a page (`data-field="…"` then `class="error"`). */
export function fieldError(page: string, name: string): string | undefined {
  const at = page.indexOf(`data-field="${name}"`);
  if (at < 0) return undefined;
  const rest = page.slice(at, at + 3000);
  const end = rest.indexOf('</div>');
  return /<p class="error"[^>]*>([^<]*)<\/p>/.exec(rest.slice(0, end))?.[1]?.trim();
}

/** Polls until `read` gives something other than undefined (state, not time). */
export async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  tries = 900,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await read();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const CHROMIUM = '/usr/bin/chromium';
let browser: Browser | undefined;

/**
 * The page as the person's phone shows it (390 px, the system's Chromium when installed): it
 * fits the width, with no sideways scrolling; a screenshot is kept in .artifacts/screenshots.
 */
export async function fitsPhone(agent: Agent, path: string, name: string): Promise<void> {
  const { existsSync, mkdirSync } = await import('node:fs');
  if (!existsSync(CHROMIUM)) return;
  const { chromium } = await import('playwright-core');
  const { join } = await import('node:path');
  const { REPO_ROOT } = await import('../../scripts/lib/tools.ts');
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const shots = join(REPO_ROOT, '.artifacts', 'screenshots');
  mkdirSync(shots, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  await ctx.addCookies(
    [...agent.cookies].map(([n, value]) => ({ name: n, value, url: agent.portal.url })),
  );
  const page = await ctx.newPage();
  const r = await page.goto(`${agent.portal.url}${path}`);
  expect(r?.status()).toBe(200);
  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  expect(`${name}: ${width}px`).toBe(`${name}: 390px`);
  await page.screenshot({ path: join(shots, `portal-${name}-390.png`), fullPage: true });
  await ctx.close();
}

/** Closes the browser fitsPhone opened, if it did. */
export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = undefined;
}
