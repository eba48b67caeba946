// The headers every HTML page of this server carries, set in one place: the
// auditor pages (/audit), the members' pages (/me, /me/transfers), the sign-on
// pages under /oidc (ours, rendered by Hono, and oidc-provider's own, rendered
// by Koa). A page may set its own headers; these replace them, so no page
// ends up with two policies. Strict-Transport-Security goes on every response
// when PUBLIC_URL is https.
//
// Two choices that differ from the textbook list, on purpose:
// - Referrer-Policy is same-origin, not no-referrer: under no-referrer a
//   browser sends `Origin: null` with form posts, and the forms' CSRF defence
//   compares Origin with our own. same-origin still sends nothing to other sites.
// - Sign-on pages (/oidc/...) have no form-action: their forms end in a
//   redirect (or oidc-provider's auto-submitted form) to the client
//   application's redirect URI, and browsers apply form-action to that
//   redirect chain. Every other page allows form posts to itself only.
import type { MiddlewareHandler } from 'hono';
import type { Middleware } from 'koa';

const POLICY = ["default-src 'none'", "style-src 'unsafe-inline'", "img-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"];
const SIGN_ON_PATH = /^\/oidc(\/|$)/;

/** The page policy; `scriptHashes` only for oidc-provider's auto-submitting forms. */
export function contentSecurityPolicy(opts: { signOn: boolean; scriptHashes?: string[] }): string {
  const parts = [...POLICY];
  if (opts.scriptHashes?.length) parts.push(`script-src ${opts.scriptHashes.join(' ')}`);
  if (!opts.signOn) parts.push("form-action 'self'");
  return parts.join('; ');
}

function headersFor(signOn: boolean, scriptHashes?: string[]): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy({ signOn, scriptHashes }),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

/** The headers of meetplane's own pages (also fit for a private download, e.g. a member's export). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze(headersFor(false));

/** One year, this host only (other hosts under the same domain may not be on https). */
export function hstsHeader(publicUrl: string): string | undefined {
  return new URL(publicUrl).protocol === 'https:' ? 'max-age=31536000' : undefined;
}

const isHtml = (contentType: string | null | undefined) => !!contentType && /^\s*text\/html\b/i.test(contentType);

/** For the Hono app: every HTML response gets the page headers, every response HSTS (https). */
export function pageHeaders(publicUrl: string): MiddlewareHandler {
  const hsts = hstsHeader(publicUrl);
  return async (c, next) => {
    await next();
    const set: Record<string, string> = isHtml(c.res.headers.get('content-type')) ? headersFor(SIGN_ON_PATH.test(c.req.path)) : {};
    if (hsts) set['Strict-Transport-Security'] = hsts;
    try {
      for (const [k, v] of Object.entries(set)) c.res.headers.set(k, v);
    } catch {
      // Headers of a fetched Response are immutable: answer a copy.
      const copy = new Response(c.res.body, c.res);
      for (const [k, v] of Object.entries(set)) copy.headers.set(k, v);
      c.res = copy;
    }
  };
}

// oidc-provider adds the hash of its auto-submit script to a script-src it
// finds on the response (helpers/script_src_sha.js): give it one to extend.
const SEED_POLICY = "script-src 'none'";

/** For oidc-provider (a Koa app, `provider.use`): the same headers on its pages. */
export function signOnPageHeaders(publicUrl: string): Middleware {
  const hsts = hstsHeader(publicUrl);
  return async (ctx, next) => {
    if (hsts) ctx.set('Strict-Transport-Security', hsts);
    ctx.set('Content-Security-Policy', SEED_POLICY);
    await next();
    if (isHtml(ctx.response.get('Content-Type'))) {
      const hashes = String(ctx.response.get('Content-Security-Policy') ?? '').match(/'sha256-[A-Za-z0-9+/=]+'/g) ?? [];
      ctx.set(headersFor(true, hashes));
    } else ctx.remove('Content-Security-Policy');
  };
}
