// The page an invitation link opens: the member chooses a password, which
// also proves their e-mail address. Single use; the link expires. In the
// account's language when it has chosen one, else the browser's.
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { AppEnv } from '../http/env.js';
import type { Sso } from './index.js';
import { findInvitation, setPassword } from '../accounts/credentials.js';
import { ProblemError } from '../http/problem.js';
import { InvitationPage } from './pages.js';
import { errorPage, page, pageLang, sameOrigin } from './interactions.js';
import { SIGN_ON_TEXT } from './sign-on-text.js';
import { PASSWORD_MAX, PASSWORD_MIN } from '../accounts/passwords.js';
import type { Lang } from '../web/i18n.js';

type Env = AppEnv & { Bindings: HttpBindings };

/** Why the password was refused, in the reader's words (the rule's own message is English, for the API). */
function passwordRefusal(lang: Lang, e: ProblemError): string {
  const T = SIGN_ON_TEXT[lang];
  const rule = String((e.extensions.errors as Array<{ message: string }> | undefined)?.[0]?.message ?? '');
  if (rule.startsWith('must be at least')) return T.tooShort(PASSWORD_MIN);
  if (rule.startsWith('must be at most')) return T.tooLong(PASSWORD_MAX);
  if (rule.includes('e-mail name')) return T.hasEmailName;
  return T.passwordNot;
}

export function invitationRoutes(sso: Sso) {
  const app = new Hono<Env>();
  const { db, config } = sso.deps;
  const gone = (c: Parameters<typeof errorPage>[0], preference?: string | null) => errorPage(c, 404, (T) => T.invitationGone, preference);

  app.get('/:token', async (c) => {
    const inv = await findInvitation(db, c.req.param('token'));
    if (!inv) return gone(c);
    return page(c, InvitationPage({ lang: pageLang(c, inv.language), action: c.req.path, csrf: sso.csrfFor('inv:' + inv.id), name: inv.name, email: inv.email }));
  });

  app.post('/:token', async (c) => {
    const inv = await findInvitation(db, c.req.param('token'));
    if (!inv) return gone(c);
    const form = await c.req.parseBody();
    if (!sameOrigin(c, config.publicUrl) || !sso.checkCsrf('inv:' + inv.id, form.csrf))
      return errorPage(c, 403, (T) => T.refused, inv.language);
    const lang = pageLang(c, inv.language);
    const T = SIGN_ON_TEXT[lang];
    const again = (error: string) =>
      page(c, InvitationPage({ lang, action: c.req.path, csrf: sso.csrfFor('inv:' + inv.id), name: inv.name, email: inv.email, error }), 400);
    const password = typeof form.password === 'string' ? form.password : '';
    if (password !== form.confirm) return again(T.notSame);
    const actor = { accountId: inv.accountId, coopId: inv.coopId, platformAdmin: inv.platformAdmin, via: 'oidc' as const, tokenId: null };
    try {
      await setPassword(db, actor, inv.accountId, password, { ln: config.sso.scryptLn, r: 8, p: 1 }, { verified: true, invitationId: inv.id });
    } catch (e) {
      if (e instanceof ProblemError && e.status < 500) return e.status === 409 ? gone(c, inv.language) : again(passwordRefusal(lang, e));
      throw e;
    }
    return page(c, InvitationPage({ lang, action: '', csrf: '', name: inv.name, email: inv.email, done: true }));
  });

  return app;
}
