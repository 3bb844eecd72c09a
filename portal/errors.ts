// Refusals the portal answers with: a status and a message in Chinese and in English, written
// for the person who reads it.
export class Refused extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 414 | 415 | 422 | 429 | 503,
    readonly zh: string,
    readonly en: string,
    /** Per-field problems, for forms. */
    readonly fields?: Record<string, string>,
  ) {
    super(en);
  }
  text(lang: 'zh' | 'en'): string {
    return lang === 'zh' ? this.zh : this.en;
  }
}

/** The one answer for anything a person may not see, so that its existence does not leak. */
export const notFound = (what = 'page') =>
  new Refused(404, '未找到该页面或事项。', `No such ${what}, or it is not yours to see.`);
