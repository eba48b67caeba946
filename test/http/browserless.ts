// A browser's part of the sign-on flows over plain HTTP: a cookie jar,
// redirects followed by hand (each Location kept), and the hidden fields of a
// page's form. Used where a test needs many round trips and no rendering.

export class Jar {
  readonly cookies = new Map<string, string>();

  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /max-age=0\b|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

/**
 * GETs `url` and follows redirects on `base` until an answer that is not a
 * redirect, or a Location outside `base` (e.g. a client's redirect URI).
 */
export async function follow(jar: Jar, base: string, url: string, init: RequestInit = {}): Promise<{ hops: Hop[]; res: Response; html: string; url: string }> {
  const hops: Hop[] = [];
  let current = new URL(url, base).href;
  let res = await send(jar, current, init);
  for (;;) {
    const location = res.headers.get('location');
    hops.push({ url: current, status: res.status, location });
    if (res.status < 300 || res.status >= 400 || !location) break;
    const next = new URL(location, current);
    if (next.origin !== new URL(base).origin) break;
    current = next.href;
    res = await send(jar, current);
  }
  return { hops, res, html: await res.text(), url: current };
}

async function send(jar: Jar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (jar.cookies.size) headers.set('cookie', jar.header());
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.take(res);
  return res;
}

/** POSTs a form as a browser on `origin` would, then follows redirects as above. */
export function submit(jar: Jar, base: string, action: string, fields: Record<string, string>, origin = new URL(base).origin) {
  return follow(jar, base, action, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

/** The hidden fields of the page's forms (or of the form with this id), name → value. */
export function hiddenFields(html: string, formId?: string): Record<string, string> {
  let scope = html;
  if (formId) {
    const start = html.indexOf(`id="${formId}"`);
    scope = start < 0 ? '' : html.slice(start, html.indexOf('</form>', start));
  }
  const fields: Record<string, string> = {};
  for (const m of scope.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  }
  return fields;
}

/** The action of the page's first form (or of the form with this id). */
export function formAction(html: string, formId?: string): string {
  const at = formId ? html.indexOf(`id="${formId}"`) : html.indexOf('<form');
  const tag = html.slice(html.lastIndexOf('<form', at + 5), html.indexOf('>', at) + 1);
  return (/action="([^"]*)"/.exec(tag)?.[1] ?? '').replace(/&amp;/g, '&');
}
