// The invited person's answer, given on their own page: /me lists the
// invitations waiting for them (server/web/me.tsx), each with an Accept and a
// Decline button posting here. Someone else's invitation looks missing.
// Answers are in the member's language (../web/me-text.ts).
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { Deps } from '../http/env.js';
import type { MemberEnv } from '../web/session.js';
import type { Principal } from '../auth/principal.js';
import { Layout } from '../web/layout.js';
import { findAccount } from '../accounts/service.js';
import { ProblemError } from '../http/problem.js';
import { UUID_RE } from '../ids.js';
import { answerInvitation } from './invitations.js';
import type { Lang } from '../web/i18n.js';
import { ME_TEXT, type MeText } from '../web/me-text.js';
import { memberLang } from '../web/page-language.js';

/** What the session module lends these pages (passed in, so this module does not import it back). */
export interface MemberPageKit {
  requireMember: MiddlewareHandler<MemberEnv>;
  checkCsrf(sid: string, offered: unknown): boolean;
  html(c: Context<MemberEnv>, element: unknown, status?: number): Promise<Response>;
}

function Message(props: { lang: Lang; title: (T: MeText) => string; text: (T: MeText) => string }) {
  const T = ME_TEXT[props.lang];
  return (
    <Layout title={props.title(T)} lang={props.lang}>
      <h1>{props.title(T)}</h1>
      <p role="alert">{props.text(T)}</p>
      <p>
        <a href="/me">{T.backToPage}</a>
      </p>
    </Layout>
  );
}

export function memberInvitationPages(routes: Hono<MemberEnv>, kit: MemberPageKit, { db }: Deps): void {
  routes.post('/invitations/:id', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    const account = await findAccount(db, c.get('memberId'));
    const lang = await memberLang(c, db, account?.language ?? null);
    const say = (status: number, title: (T: MeText) => string, text: (T: MeText) => string) => kit.html(c, Message({ lang, title, text }), status);
    if (!kit.checkCsrf(c.get('memberSid'), form.csrf)) return say(403, (T) => T.refused, (T) => T.notYourForm);
    const answer = form.answer === 'accept' ? 'accept' : form.answer === 'decline' ? 'decline' : undefined;
    if (!answer) return say(400, (T) => T.refused, (T) => T.chooseAnswer);
    const id = c.req.param('id');
    if (!account || !UUID_RE.test(id)) return say(404, (T) => T.notFound, (T) => T.noSuchInvitation);
    // The invitation's addressee answers for themselves: who they are is the whole check.
    const member: Principal = { accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'oidc', tokenId: null };
    try {
      await answerInvitation(db, member, id, answer);
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      if (e.status === 404) return say(404, (T) => T.notFound, (T) => T.noSuchInvitation);
      // The service says `the invitation is <state>`; the state is what the member reads.
      const state = /the invitation is (\w+)/.exec(e.message)?.[1] ?? e.message;
      return say(e.status, (T) => T.notPossible, (T) => T.invitationClosed(state));
    }
    return c.redirect('/me', 303);
  });
}
