// Notification channels: how one notice of the outbox reaches people — a console line, a JSON
// webhook, a WeCom group robot or a DingTalk group robot. Each send either resolves (the
// channel accepted the message) or throws an Error whose message says why, for the outbox to
// record and retry. Messages never include a robot's URL query (it carries the access key).
//
// Calls stay outbound: a channel's URL must be https (http only to the machine itself, when the
// network policy allows it for development), its host may be limited to an allow-list, and the
// addresses its name resolves to are checked at connection time, so that a definition cannot
// point the worker at the county's own network (loopback, private, link-local, cloud metadata).
// Redirects are not followed, and of an answer only its status line (and a robot's errcode) is
// kept.
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { ChannelConfig } from '../../domain/definition.ts';
import { isLoopbackHost } from '../../domain/definition.ts';

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
  /**
   * The same on every attempt of one delivery (notice and channel): sent as the
   * `Idempotency-Key` header so that a receiver can drop a second copy.
   */
  idempotencyKey?: string;
}

export interface Channel {
  send(notice: OutboundNotice): Promise<void>;
}

/** Where channels may send. The default is the strictest: https to public addresses only. */
export interface NetworkPolicy {
  /**
   * http:// and loopback addresses (127.0.0.0/8, ::1) are allowed: for a receiver on the same
   * machine in development and tests (NOTIFY_ALLOW_LOOPBACK_HTTP).
   */
  allowLoopbackHttp?: boolean;
  /**
   * When given, the only host names channels may reach (NOTIFY_ALLOWED_HOSTS); `*.example.com`
   * allows its subdomains.
   */
  allowedHosts?: string[] | undefined;
  /** Private networks (CIDR) channels may reach all the same, e.g. an intranet robot gateway. */
  allowedNetworks?: string[] | undefined;
}

/** Lookup as node:dns has it; tests inject answers. */
export type Lookup = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface ChannelOptions {
  /** Where channels may send (default: https to public addresses only). */
  network?: NetworkPolicy;
  /** DNS lookup (tests inject one); defaults to the system resolver. */
  lookup?: Lookup;
  /** Where the console channel writes; defaults to console.log. */
  log?: (line: string) => void;
  /** The clock for DingTalk signatures, in epoch milliseconds. */
  now?: () => number;
  /** Time allowed for one HTTP request, response body included (default 5000 ms). */
  timeoutMs?: number;
  /** Resolves the secrets channels name with secretRef (the worker's environment or file). */
  secrets?: (name: string) => string | undefined;
}

/** The value of a named secret, or an error saying where to configure it. */
function secretOf(opts: ChannelOptions, name: string): string {
  const v = opts.secrets?.(name);
  if (v === undefined || v === '')
    throw new Error(
      `secret ${name} is not configured: set CAMPAIGN_SECRET_${name} in the worker's environment or add ${name}=… to its CAMPAIGN_SECRETS_FILE`,
    );
  return v;
}

/** `url` with `param=value` added to its query. */
function withParam(url: string, param: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(param, value);
  return u.href;
}

export const DEFAULT_TIMEOUT_MS = 5000;

/** WeCom rejects markdown content longer than 4096 bytes. */
const WECOM_MAX_BYTES = 4096;
/** DingTalk's limit is about 20000 bytes; stay well below it. */
const DINGTALK_MAX_BYTES = 16000;

export function channelFor(config: ChannelConfig, opts: ChannelOptions = {}): Channel {
  const http: HttpOptions = {
    network: opts.network ?? {},
    lookup: opts.lookup ?? (dnsLookup as unknown as Lookup),
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
          const headers = { ...config.headers };
          if (config.secretRef)
            headers[config.secretHeader ?? 'Authorization'] = secretOf(opts, config.secretRef);
          await post(http, 'webhook', config.url, keyed(headers, n), {
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
          const url = config.secretRef
            ? withParam(config.url, 'key', secretOf(opts, config.secretRef))
            : config.url;
          const res = await post(http, 'wecom', url, keyed({}, n), wecomMessage(n));
          checkErrcode('wecom', res);
        },
      };
    case 'dingtalk': {
      const now = opts.now ?? Date.now;
      return {
        async send(n) {
          const base = config.secretRef
            ? withParam(config.url, 'access_token', secretOf(opts, config.secretRef))
            : config.url;
          // A literal `secret` only in channels recorded before signingSecretRef existed.
          const signing = config.signingSecretRef
            ? secretOf(opts, config.signingSecretRef)
            : config.secret;
          const url = signing ? dingtalkSignedUrl(base, signing, now()) : base;
          const res = await post(http, 'dingtalk', url, keyed({}, n), dingtalkMessage(n));
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

/** A delivery's headers with its idempotency key, when it has one. */
function keyed(headers: Record<string, string>, n: OutboundNotice): Record<string, string> {
  return n.idempotencyKey ? { ...headers, 'Idempotency-Key': n.idempotencyKey } : headers;
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
  network: NetworkPolicy;
  lookup: Lookup;
  timeoutMs: number;
}

interface HttpResult {
  status: number;
  text: string;
}

/** The most of an answer read: enough for a robot's `{ errcode, errmsg }`, never a download. */
const MAX_ANSWER_BYTES = 16 * 1024;

/** Networks no channel reaches unless allowed: the machine, private and link-local ranges. */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * An IPv4-mapped IPv6 address (::ffff:10.0.0.1) as the IPv4 address it is (a BlockList also
 * matches the hexadecimal form, ::ffff:a00:1, against its IPv4 rules).
 */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

function allowedNetworks(policy: NetworkPolicy): BlockList {
  const list = new BlockList();
  for (const cidr of policy.allowedNetworks ?? []) {
    const [net, bits] = cidr.split('/');
    const family = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net!, Number(bits ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return list;
}

/** Why the worker may not connect to `address` under `policy`, or null. */
export function addressProblem(address: string, policy: NetworkPolicy): string | null {
  const a = unmapped(address);
  if (LOOPBACK.check(a.address, a.family))
    return policy.allowLoopbackHttp
      ? null
      : `${address} is this machine (loopback); set NOTIFY_ALLOW_LOOPBACK_HTTP=true only for development`;
  if (!INTERNAL.check(a.address, a.family)) return null;
  if (allowedNetworks(policy).check(a.address, a.family)) return null;
  return `${address} is a private, link-local or reserved address; channels send only to public addresses unless NOTIFY_ALLOWED_NETWORKS names its network`;
}

/** Why a channel may not send to `url` under `policy` before any connection, or null. */
export function urlProblem(url: URL, policy: NetworkPolicy): string | null {
  if (url.username || url.password) return 'the URL carries a user name or password';
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:') {
    if (!policy.allowLoopbackHttp)
      return 'http is refused: channels use https (NOTIFY_ALLOW_LOOPBACK_HTTP=true allows http to this machine, for development)';
    if (!isLoopbackHost(host)) return 'http is allowed only to this machine; use https';
  } else if (url.protocol !== 'https:') return `${url.protocol} is not https`;
  const hosts = policy.allowedHosts;
  if (hosts?.length && !(policy.allowLoopbackHttp && isLoopbackHost(host))) {
    const ok = hosts.some((h) => {
      const allowed = h.toLowerCase();
      return allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) : host === allowed;
    });
    if (!ok) return `${host} is not in NOTIFY_ALLOWED_HOSTS (${hosts.join(', ')})`;
  }
  if (isIP(host)) return addressProblem(host, policy);
  return null;
}

/** A DNS lookup that refuses, at connection time, names that resolve to refused addresses. */
function guardedLookup(policy: NetworkPolicy, lookup: Lookup) {
  return (
    hostname: string,
    options: { all?: boolean },
    callback: (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ) => {
    lookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses ?? [];
      for (const a of list) {
        const problem = addressProblem(a.address, policy);
        if (problem) {
          const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${problem}`);
          refused.code = 'EREFUSED_ADDRESS';
          return callback(refused, '', 0);
        }
      }
      if (!list.length) return callback(new Error(`${hostname} has no address`), '', 0);
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** One POST; redirects are answers, not followed; at most MAX_ANSWER_BYTES of the body read. */
function request(
  opts: HttpOptions,
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<HttpResult & { statusText: string; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        lookup: guardedLookup(opts.network, opts.lookup) as never,
        agent: false,
        signal: AbortSignal.timeout(opts.timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size >= MAX_ANSWER_BYTES) return;
          chunks.push(c);
          size += c.length;
          if (size >= MAX_ANSWER_BYTES) res.destroy();
        });
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            location: res.headers.location,
            text: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
          });
        res.on('end', done);
        res.on('close', done);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function post(
  http: HttpOptions,
  channel: string,
  url: string,
  headers: Record<string, string>,
  payload: unknown,
): Promise<HttpResult> {
  const where = `${channel} ${safeUrl(url)}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${where}: refused: not a URL`);
  }
  const refused = urlProblem(parsed, http.network);
  if (refused) throw new Error(`${where}: refused: ${refused}`);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(http, parsed, headers, JSON.stringify(payload));
  } catch (e) {
    throw new Error(`${where}: request failed: ${describeRequestError(e, http.timeoutMs)}`, {
      cause: e,
    });
  }
  // Only the status line: an answer's body may be anything the receiver (or whatever the URL
  // really reaches) chooses to say, and it is not ours to keep.
  const statusLine = `HTTP ${res.status}${res.statusText ? ` ${printable(res.statusText, 60)}` : ''}`;
  if (res.status >= 300 && res.status < 400)
    throw new Error(
      `${where}: ${statusLine}: a redirect${res.location ? ` to ${redirectTarget(res.location, parsed)}` : ''}, not followed; give the final URL`,
    );
  if (res.status < 200 || res.status >= 300) throw new Error(`${where}: ${statusLine}`);
  return { status: res.status, text: res.text };
}

/** Where a redirect points, without its query; whatever the receiver wrote there. */
function redirectTarget(location: string, base: URL): string {
  try {
    return safeUrl(new URL(location, base).href);
  } catch {
    return '(not a URL)';
  }
}

/** Text from the other side, for a log line: no control characters, at most `max` characters. */
function printable(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return Array.from(clean).length > max ? `${Array.from(clean).slice(0, max).join('')}…` : clean;
}

/** WeCom and DingTalk answer HTTP 200 with `{ errcode, errmsg }`; errcode 0 means accepted. */
function checkErrcode(channel: string, res: HttpResult): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    throw new Error(`${channel}: unexpected answer (HTTP ${res.status}, not JSON)`);
  }
  const { errcode, errmsg } = (parsed ?? {}) as { errcode?: unknown; errmsg?: unknown };
  if (errcode !== 0) {
    const code = typeof errcode === 'number' ? String(errcode) : 'missing';
    const msg = typeof errmsg === 'string' ? printable(errmsg, 100) : '';
    throw new Error(`${channel}: errcode ${code}: ${msg}`);
  }
}

function describeRequestError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; code?: string; cause?: { message?: string } };
  if (err?.name === 'TimeoutError' || err?.cause?.message?.includes('timeout'))
    return `timeout after ${timeoutMs} ms`;
  if (err?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  const cause = err?.cause?.message;
  const message = printable(err?.message ?? String(e), 300);
  return cause ? `${message} (${printable(cause, 200)})` : message;
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
