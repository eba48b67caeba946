// The page an invitation link opens: the member chooses a password, which
// also proves their e-mail address. Single use; the link expires.
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { AppEnv } from '../http/env.js';
import type { Sso } from './index.js';
import { findInvitation, setPassword } from '../accounts/credentials.js';
import { ProblemError } from '../http/problem.js';
import { InvitationPage } from './pages.js';
import { errorPage, page, sameOrigin } from './interactions.js';

type Env = AppEnv & { Bindings: HttpBindings };

export function invitationRoutes(sso: Sso) {
  const app = new Hono<Env>();
  const { db, config } = sso.deps;
  const gone = (c: Parameters<typeof errorPage>[0]) =>
    errorPage(c, 404, 'Invitation not valid', 'This invitation link is not valid: it expired or was used already. Ask your co-op admin for a new one.');

  app.get('/:token', async (c) => {
    const inv = await findInvitation(db, c.req.param('token'));
    if (!inv) return gone(c);
    return page(c, InvitationPage({ action: c.req.path, csrf: sso.csrfFor('inv:' + inv.id), name: inv.name, email: inv.email }));
  });

  app.post('/:token', async (c) => {
    const inv = await findInvitation(db, c.req.param('token'));
    if (!inv) return gone(c);
    const form = await c.req.parseBody();
    if (!sameOrigin(c, config.publicUrl) || !sso.checkCsrf('inv:' + inv.id, form.csrf))
      return errorPage(c, 403, 'Request refused', 'The form did not come from this site. Reload the page and try again.');
    const again = (error: string) =>
      page(c, InvitationPage({ action: c.req.path, csrf: sso.csrfFor('inv:' + inv.id), name: inv.name, email: inv.email, error }), 400);
    const password = typeof form.password === 'string' ? form.password : '';
    if (password !== form.confirm) return again('The two passwords are not the same.');
    const actor = { accountId: inv.accountId, coopId: inv.coopId, platformAdmin: inv.platformAdmin, via: 'oidc' as const, tokenId: null };
    try {
      await setPassword(db, actor, inv.accountId, password, { ln: config.sso.scryptLn, r: 8, p: 1 }, { verified: true, invitationId: inv.id });
    } catch (e) {
      if (e instanceof ProblemError && e.status < 500) return e.status === 409 ? gone(c) : again(`The password ${(e.extensions.errors as Array<{ message: string }>)?.[0]?.message ?? 'is not acceptable'}.`);
      throw e;
    }
    return page(c, InvitationPage({ action: '', csrf: '', name: inv.name, email: inv.email, done: true }));
  });

  return app;
}
