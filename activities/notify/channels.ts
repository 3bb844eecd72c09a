// Notification channels: how one notice of the outbox reaches people — a console line, a JSON
// webhook, a WeCom group robot or a DingTalk group robot. Each send either resolves (the
// channel accepted the message) or throws an Error whose message says why, for the outbox to
// record and retry. Messages never include a robot's URL query (it carries the access key).
import { createHmac } from 'node:crypto';
import type { ChannelConfig } from '../../domain/definition.ts';

/** A notice as the channels see it: a row of `notices`. */
export interface OutboundNotice {
  noticeId: string;
  campaignId: string;
  taskId: string | null;
  kind: string;
  /** Person ids. */
  recipients: string[];
  title: string;
  body: string;
}

export interface Channel {
  send(notice: OutboundNotice): Promise<void>;
}

export interface ChannelOptions {
  /** The HTTP client (tests inject one); defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Where the console channel writes; defaults to console.log. */
  log?: (line: string) => void;
  /** The clock for DingTalk signatures, in epoch milliseconds. */
  now?: () => number;
  /** Time allowed for one HTTP request, response body included (default 5000 ms). */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;

/** WeCom rejects markdown content longer than 4096 bytes. */
const WECOM_MAX_BYTES = 4096;
/** DingTalk's limit is about 20000 bytes; stay well below it. */
const DINGTALK_MAX_BYTES = 16000;

export function channelFor(config: ChannelConfig, opts: ChannelOptions = {}): Channel {
  const http: HttpOptions = {
    fetch: opts.fetch ?? globalThis.fetch,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  switch (config.type) {
    case 'console': {
      const log = opts.log ?? ((line: string) => console.log(line));
      return {
        async send(n) {
          log(consoleText(n));
        },
      };
    }
    case 'webhook':
      return {
        async send(n) {
          await post(http, 'webhook', config.url, config.headers ?? {}, {
            noticeId: n.noticeId,
            campaignId: n.campaignId,
            taskId: n.taskId,
            kind: n.kind,
            recipients: n.recipients,
            title: n.title,
            body: n.body,
          });
        },
      };
    case 'wecom':
      return {
        async send(n) {
          const res = await post(http, 'wecom', config.url, {}, wecomMessage(n));
          checkErrcode('wecom', res);
        },
      };
    case 'dingtalk': {
      const now = opts.now ?? Date.now;
      return {
        async send(n) {
          const url = config.secret
            ? dingtalkSignedUrl(config.url, config.secret, now())
            : config.url;
          const res = await post(http, 'dingtalk', url, {}, dingtalkMessage(n));
          checkErrcode('dingtalk', res);
        },
      };
    }
    default: {
      const unknown: { type?: unknown } = config;
      throw new Error(`unknown channel type ${JSON.stringify(unknown.type)}`);
    }
  }
}

/** The console line: the title and recipients, then the body indented. */
export function consoleText(n: OutboundNotice): string {
  const body = lines(n.body).map((l) => `    ${l}`);
  return [`[notice] ${n.title} → ${n.recipients.join(',')}`, ...body].join('\n');
}

/** A WeCom group-robot markdown message: the title as a heading, each body line quoted. */
export function wecomMessage(n: OutboundNotice): {
  msgtype: 'markdown';
  markdown: { content: string };
} {
  const content = `### ${n.title}\n${lines(n.body)
    .map((l) => `> ${l}`)
    .join('\n')}`;
  return { msgtype: 'markdown', markdown: { content: truncateBytes(content, WECOM_MAX_BYTES) } };
}

/**
 * A DingTalk group-robot markdown message. DingTalk's markdown joins single line breaks, so
 * body lines are separate paragraphs.
 */
export function dingtalkMessage(n: OutboundNotice): {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
} {
  const text = [`### ${n.title}`, ...lines(n.body)].join('\n\n');
  return {
    msgtype: 'markdown',
    markdown: { title: n.title, text: truncateBytes(text, DINGTALK_MAX_BYTES) },
  };
}

/** DingTalk's signature: base64(HMAC-SHA256(secret, `${timestamp}\n${secret}`)). */
export function dingtalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

/** The robot URL with `timestamp` and `sign` appended as DingTalk requires. */
export function dingtalkSignedUrl(url: string, secret: string, timestamp: number): string {
  const sign = encodeURIComponent(dingtalkSign(secret, timestamp));
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${timestamp}&sign=${sign}`;
}

interface HttpOptions {
  fetch: typeof fetch;
  timeoutMs: number;
}

interface HttpResult {
  status: number;
  text: string;
}

async function post(
  http: HttpOptions,
  channel: string,
  url: string,
  headers: Record<string, string>,
  payload: unknown,
): Promise<HttpResult> {
  const where = `${channel} ${safeUrl(url)}`;
  let status: number;
  let text: string;
  try {
    const res = await http.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(http.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (e) {
    throw new Error(`${where}: request failed: ${describeFetchError(e, http.timeoutMs)}`, {
      cause: e,
    });
  }
  if (status < 200 || status >= 300) {
    throw new Error(`${where}: HTTP ${status}: ${text.slice(0, 200)}`);
  }
  return { status, text };
}

/** WeCom and DingTalk answer HTTP 200 with `{ errcode, errmsg }`; errcode 0 means accepted. */
function checkErrcode(channel: string, res: HttpResult): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    throw new Error(`${channel}: unexpected answer (not JSON): ${res.text.slice(0, 200)}`);
  }
  const { errcode, errmsg } = (parsed ?? {}) as { errcode?: unknown; errmsg?: unknown };
  if (errcode !== 0) {
    throw new Error(`${channel}: errcode ${String(errcode)}: ${String(errmsg ?? '')}`);
  }
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { message?: string } };
  if (err?.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  const cause = err?.cause?.message;
  const message = err?.message ?? String(e);
  return cause ? `${message} (${cause})` : message;
}

/** The URL without its query and credentials: robot keys live in the query. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function lines(body: string): string[] {
  return body.split(/\r?\n/);
}

/** Cut a string to at most `max` UTF-8 bytes without splitting a character. */
function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const ellipsis = '…';
  let bytes = Buffer.byteLength(ellipsis);
  let out = '';
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out + ellipsis;
}
