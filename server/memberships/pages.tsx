// The invited person's answer, given on their own page: /me lists the
// invitations waiting for them (server/web/me.tsx), each with an Accept and a
// Decline button posting here. Someone else's invitation looks missing.
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Deps } from '../http/env.js';
import type { MemberEnv } from '../web/session.js';
import type { Principal } from '../auth/principal.js';
import { Layout } from '../web/layout.js';
import { findAccount } from '../accounts/service.js';
import { ProblemError } from '../http/problem.js';
import { UUID_RE } from '../ids.js';
import { answerInvitation } from './invitations.js';

/** What the session module lends these pages (passed in, so this module does not import it back). */
export interface MemberPageKit {
  requireMember: MiddlewareHandler<MemberEnv>;
  checkCsrf(sid: string, offered: unknown): boolean;
  html(c: Context<MemberEnv>, element: unknown, status?: number): Promise<Response>;
}

function Message(props: { title: string; text: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p role="alert">{props.text}</p>
      <p>
        <a href="/me">Back to your page</a>
      </p>
    </Layout>
  );
}

export function memberInvitationPages(routes: Hono<MemberEnv>, kit: MemberPageKit, { db }: Deps): void {
  routes.post('/invitations/:id', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    if (!kit.checkCsrf(c.get('memberSid'), form.csrf))
      return kit.html(c, Message({ title: 'Refused', text: 'This form did not come from your session here. Reload the page and try again.' }), 403);
    const answer = form.answer === 'accept' ? 'accept' : form.answer === 'decline' ? 'decline' : undefined;
    if (!answer) return kit.html(c, Message({ title: 'Refused', text: 'Choose to accept or to decline.' }), 400);
    const id = c.req.param('id');
    const account = await findAccount(db, c.get('memberId'));
    if (!account || !UUID_RE.test(id)) return kit.html(c, Message({ title: 'Not found', text: 'There is no invitation of yours at this address.' }), 404);
    // The invitation's addressee answers for themselves: who they are is the whole check.
    const member: Principal = { accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'oidc', tokenId: null };
    try {
      await answerInvitation(db, member, id, answer);
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      if (e.status === 404) return kit.html(c, Message({ title: 'Not found', text: 'There is no invitation of yours at this address.' }), 404);
      return kit.html(c, Message({ title: 'Not possible', text: `This invitation is no longer open: ${e.message}.` }), e.status);
    }
    return c.redirect('/me', 303);
  });
}
