// Server-rendered HTML: a tagged template that escapes every interpolated value unless it is
// already HTML, the page layout, and the one stylesheet (served by the portal itself: no CDN,
// nothing fetched at run time). Laid out for a 390 px phone and a desktop alike.
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESC: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);

type Value = Html | string | number | boolean | null | undefined | Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (v instanceof Html) return v.text;
  return escape(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export type Lang = 'zh' | 'en';
export const t = (lang: Lang, zh: string, en: string): string => (lang === 'zh' ? zh : en);

export interface Chrome {
  lang: Lang;
  title: string;
  /** The signed-in person, for the header; absent on the sign-in pages. */
  me?: {
    name: string;
    personId: string;
    bureau: boolean;
    boards: { campaignId: string; name: string }[];
    /** Campaigns whose verification page the person works in (the evaluator). */
    verification?: { campaignId: string; name: string }[];
    /** Campaigns whose rectifications the person may look at. */
    rectification?: { campaignId: string; name: string }[];
    /** Campaigns the person manages for the bureau (portal/pages-bureau.ts). */
    manage?: { campaignId: string; name: string }[];
    /** Campaigns whose samples and visits the person works on for the evaluator. */
    evaluator?: { campaignId: string; name: string }[];
  };
  csrf?: string;
  /** The current path and query, for the language switch. */
  path: string;
}

function langSwitch(c: Chrome): Html {
  const url = new URL(c.path, 'http://x');
  url.searchParams.set('lang', c.lang === 'zh' ? 'en' : 'zh');
  return html`<a class="lang" href="${url.pathname + url.search}"
    >${c.lang === 'zh' ? 'English' : '中文'}</a
  >`;
}

export function page(c: Chrome, body: Html): string {
  const L = (zh: string, en: string) => t(c.lang, zh, en);
  const nav = c.me
    ? html`<nav>
          <a href="/tasks">${L('我的待办', 'My tasks')}</a>
          ${c.me.bureau ? html`<a href="/review">${L('审核队列', 'Review queue')}</a>` : ''}
          ${c.me.boards.map(
            (b) =>
              html`<a href="/campaigns/${encodeURIComponent(b.campaignId)}"
                >${L('看板', 'Board')} · ${b.name}</a
              >`,
          )}
          ${(c.me.verification ?? []).map(
            (b) =>
              html`<a href="/campaigns/${encodeURIComponent(b.campaignId)}/verification"
                >${L('信息核验', 'Verification')} · ${b.name}</a
              >`,
          )}
          ${(c.me.manage ?? []).map(
            (b) =>
              html`<a href="/campaigns/${encodeURIComponent(b.campaignId)}/bureau"
                >${L('考核管理', 'Manage')} · ${b.name}</a
              >`,
          )}
          ${c.me.manage?.length ? html`<a href="/campaigns/new">${L('发起考核', 'Start a campaign')}</a>` : ''}
          ${(c.me.evaluator ?? []).map(
            (b) =>
              html`<a href="/campaigns/${encodeURIComponent(b.campaignId)}/evaluator"
                >${L('抽样与实地核查', 'Samples and visits')} · ${b.name}</a
              >`,
          )}
          ${(c.me.rectification ?? []).map(
            (b) =>
              html`<a href="/campaigns/${encodeURIComponent(b.campaignId)}/rectification"
                >${L('整改', 'Rectification')} · ${b.name}</a
              >`,
          )}
        </nav>
        <form method="post" action="/sign-out" class="signout">
          <input type="hidden" name="_csrf" value="${c.csrf ?? ''}" />
          <span class="who">${c.me.name}</span>
          <button type="submit" class="link">${L('退出', 'Sign out')}</button>
        </form>`
    : '';
  return `<!doctype html>${
    html`<html lang="${c.lang === 'zh' ? 'zh-CN' : 'en'}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${c.title} · ${L('营商环境考核评价', 'Business environment evaluation')}</title>
        <link rel="stylesheet" href="/assets/portal.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/"
            >${L('营商环境考核评价 · 部门工作台', 'Evaluation campaign · department portal')}</a
          >
          ${nav} ${langSwitch(c)}
        </header>
        <main>
          <h1>${c.title}</h1>
          ${body}
        </main>
      </body>
    </html>`.text
  }`;
}

export const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;background:#f4f6f8}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#0b4f8a;color:#fff}
header a{color:#fff;text-decoration:none}
header .brand{font-weight:700;margin-right:auto}
header nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header nav a{padding:.15rem 0;border-bottom:2px solid transparent}
header nav a:hover{border-color:#fff}
.signout{display:flex;gap:.5rem;align-items:center;margin:0}
.signout .who{opacity:.9;font-size:.9rem}
button.link{background:none;border:0;color:#fff;text-decoration:underline;cursor:pointer;font:inherit;padding:0;margin:0}
.lang{font-size:.9rem;border:1px solid #fff6;border-radius:4px;padding:.05rem .4rem}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
section,.actions form{background:#fff;border:1px solid #d9dee3;border-radius:6px;padding:1rem;margin-bottom:1rem}
section>h2:first-child,.actions form>h2:first-child{margin-top:0}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#eef2f6;font-weight:600;white-space:nowrap}
.light{display:inline-block;min-width:3.2em;text-align:center;border-radius:1em;padding:0 .5em;font-size:.85rem;font-weight:600}
.light.green{background:#d4edda;color:#155724}.light.yellow{background:#fff3cd;color:#856404}.light.red{background:#f8d7da;color:#721c24}
.muted{color:#616e7c;font-size:.9rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password],input[type=number],input[type=date],input[type=datetime-local],select,textarea{width:100%;max-width:32rem;padding:.5rem;border:1px solid #9aa5b1;border-radius:4px;font:inherit;background:#fff}
textarea{min-height:5rem}
fieldset.row{border:1px solid #d9dee3;border-radius:6px;margin:.75rem 0;padding:.25rem .8rem .6rem;min-width:0}
fieldset.row legend{font-weight:600;padding:0 .3rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
.field.invalid input,.field.invalid select,.field.invalid textarea{border-color:#c0392b;background:#fdf2f2}
.error{color:#c0392b;font-size:.9rem;margin:.2rem 0 0}
.notice{border-radius:6px;padding:.75rem 1rem;margin-bottom:1rem}
.notice.bad{background:#fdecea;border:1px solid #f5c6cb;color:#721c24}
.notice.ok{background:#e6f4ea;border:1px solid #b7dfc2;color:#155724}
.notice.info{background:#eef4fb;border:1px solid #c3d7ee}
button,.button{display:inline-block;background:#0b4f8a;color:#fff;border:0;border-radius:4px;padding:.55rem 1.1rem;font:inherit;cursor:pointer;text-decoration:none;margin-top:.75rem}
button.secondary{background:#52606d}button.danger{background:#b03a2e}
.actions{display:flex;flex-wrap:wrap;gap:1rem}
.actions form{flex:1 1 18rem}
.timeline{list-style:none;margin:0;padding:0}
.timeline li{border-left:3px solid #9aa5b1;padding:.25rem 0 .6rem .8rem;margin-left:.3rem}
.timeline li.submitted,.timeline li.approved,.timeline li.done{border-color:#2e7d32}
.timeline li.returned,.timeline li.escalated{border-color:#c0392b}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
.kv dt{color:#616e7c}.kv dd{margin:0}
.toc{display:flex;flex-wrap:wrap;gap:.3rem 1rem;background:#fff;border:1px solid #d9dee3;border-radius:6px;padding:.6rem 1rem;margin-bottom:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.75rem}
@media (max-width:640px){
  main{padding:.6rem}
  header{padding:.5rem .6rem}
  header .brand{width:100%}
  table.stack thead{display:none}
  table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
  table.stack tr{border:1px solid #d9dee3;border-radius:6px;margin-bottom:.6rem;background:#fff}
  table.stack td{border:0;padding:.25rem .6rem}
  table.stack td::before{content:attr(data-label);display:inline-block;min-width:5.5em;color:#616e7c;font-size:.85rem}
  .wide{overflow-x:auto}
  input[type=text],input[type=password],input[type=number],select,textarea{max-width:100%}
}
`;
