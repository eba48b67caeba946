// The owner's page for their tenancy in a hand-over
// (/me/handovers/{id}/tenancies/{tenancyId}, the link in the mail they get):
// what moves, where to and in which wave, and three answers: accept (their
// approval of the transfer), object (stay, export, or another host: the
// transfer stops) or ask for the next wave. The same decisions as the API's
// answer: the policies on the tenancy's transfer. The form carries the
// transfer's version and the session's CSRF token.
import type { Hono } from 'hono';
import { and, eq } from 'drizzle-orm';
import type { Deps } from '../http/env.js';
import { Layout } from '../web/layout.js';
import { render } from '../web/me.js';
import { requireMember, type MemberEnv, type WebSessions, PAGE_HEADERS } from '../web/session.js';
import { findAccount } from '../accounts/service.js';
import { findCoop } from '../coops/service.js';
import { findTenancy } from '../tenancies/service.js';
import { findTransfer, type Transfer } from '../transfers/service.js';
import { transferRef } from '../authz/guard.js';
import { ProblemError } from '../http/problem.js';
import { UUID_RE } from '../ids.js';
import type { Principal } from '../auth/principal.js';
import { handoverTenancies, handoverWaves } from './table.js';
import { findHandover, type Handover, type HandoverTenancy } from './plan.js';
import { answerHandover, type Answer } from './answers.js';
import { handoverDepsOf } from './build-deps.js';

const principalOf = (a: { id: string; coopId: string | null; platformAdmin: boolean }): Principal => ({ accountId: a.id, coopId: a.coopId, platformAdmin: a.platformAdmin, via: 'oidc', tokenId: null });
const CHOICES = { stay: 'my tenancy stays where it is', export: 'I take an export of our data', 'other-host': 'we move to another host' } as const;

export function ownerHandoverPages(routes: Hono<MemberEnv>, sessions: WebSessions, deps: Deps): void {
  const { db, guard } = deps;
  const handoverDeps = handoverDepsOf(deps);
  const page = async (element: unknown, status = 200) => new Response(await render(element), { status, headers: { 'Content-Type': 'text/html; charset=utf-8', ...PAGE_HEADERS } });
  const missing = () => page(<Layout title="Not found"><h1>No such tenancy in a hand-over</h1><p>There is nothing of yours to answer at this address.</p></Layout>, 404);

  /** The tenancy's place in the hand-over and its transfer, if the member may read that transfer. */
  async function load(memberId: string, id: string, tenancyId: string) {
    const account = await findAccount(db, memberId);
    if (!account || !UUID_RE.test(id) || !UUID_RE.test(tenancyId)) return undefined;
    const h = await findHandover(db, id);
    if (!h) return undefined;
    const [ht] = await db.select().from(handoverTenancies).where(and(eq(handoverTenancies.handoverId, h.id), eq(handoverTenancies.tenancyId, tenancyId.toLowerCase())));
    const t = ht?.transferId ? await findTransfer(db, ht.transferId) : undefined;
    const p = principalOf(account);
    if (!ht || !t || !(await guard.canRead(p, 'transfer.read', transferRef(t)))) return undefined;
    return { p, h, ht, t };
  }

  async function OwnerPage(props: { h: Handover; ht: HandoverTenancy; t: Transfer; csrf: string; done?: string }) {
    const { h, ht, t } = props;
    const [tenancy, source, target, [wave]] = await Promise.all([
      findTenancy(db, ht.tenancyId),
      findCoop(db, h.sourceCoopId),
      findCoop(db, h.targetCoopId),
      db.select().from(handoverWaves).where(and(eq(handoverWaves.handoverId, h.id), eq(handoverWaves.n, ht.wave))),
    ]);
    const open = ht.state === 'transfer' && t.state === 'checked' && (h.state === 'approved' || h.state === 'running');
    return (
      <Layout title={`${tenancy?.name ?? 'Tenancy'}: hand-over`}>
        <h1>{tenancy?.name} in the hand-over to {target?.name}</h1>
        <dl>
          <dt>From</dt>
          <dd>{source?.name} ({source?.jurisdiction})</dd>
          <dt>To</dt>
          <dd>{target?.name} ({target?.jurisdiction})</dd>
          <dt>Wave</dt>
          <dd>{ht.wave}{wave ? <>, frozen from <time datetime={wave.freezeFrom.toISOString()}>{wave.freezeFrom.toUTCString()}</time> at the earliest</> : null}</dd>
          <dt>Your answer</dt>
          <dd>{ht.answer}{ht.objection ? ` (${CHOICES[ht.objection]})` : ''}</dd>
        </dl>
        {props.done && <p class="ok" role="status">Your answer is recorded.</p>}
        {open ? (
          <form method="post" action={`/me/handovers/${h.id}/tenancies/${ht.tenancyId}`}>
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="version" value={String(t.version)} />
            <fieldset>
              <legend>Your answer as the owner</legend>
              <p class="muted">Accepting approves the move of your tenancy; its members are then told and may object for themselves.</p>
              <button type="submit" name="answer" value="accept">Accept the move</button>{' '}
              <button type="submit" name="answer" value="later">Ask for the next wave</button>
            </fieldset>
            <fieldset>
              <legend>Or object: the move of your tenancy stops</legend>
              {Object.entries(CHOICES).map(([value, label], i) => (
                <label>
                  <input type="radio" name="choice" value={value} checked={i === 0} /> {label}
                </label>
              ))}
              <button type="submit" name="answer" value="object">Object</button>
            </fieldset>
          </form>
        ) : (
          <p>There is nothing to answer now: the tenancy is {ht.state} in the hand-over, its transfer {t.state.replace('_', ' ')}.</p>
        )}
      </Layout>
    );
  }

  routes.get('/handovers/:id/tenancies/:tenancyId', requireMember(sessions, deps), async (c) => {
    const found = await load(c.get('memberId'), c.req.param('id'), c.req.param('tenancyId'));
    if (!found) return missing();
    return page(await OwnerPage({ ...found, csrf: sessions.csrf(c.get('memberSid')), done: c.req.query('done') }));
  });

  routes.post('/handovers/:id/tenancies/:tenancyId', requireMember(sessions, deps), async (c) => {
    const found = await load(c.get('memberId'), c.req.param('id'), c.req.param('tenancyId'));
    if (!found) return missing();
    const form = await c.req.parseBody();
    const refused = (status: number, text: string) => page(<Layout title="Refused"><h1>Refused</h1><p>{text}</p></Layout>, status);
    if (!sessions.checkCsrf(c.get('memberSid'), form.csrf)) return refused(403, 'This form did not come from your session here. Reload the page and try again.');
    if (typeof form.version !== 'string' || Number(form.version) !== found.t.version) return refused(412, 'The transfer changed since you loaded the page. Load it again before you answer.');
    let answer: Answer;
    if (form.answer === 'accept' || form.answer === 'later') answer = { answer: form.answer };
    else if (form.answer === 'object' && typeof form.choice === 'string' && form.choice in CHOICES) answer = { answer: 'object', choice: form.choice as keyof typeof CHOICES };
    else return refused(400, 'Choose to accept, to ask for the next wave, or to object with what you want instead.');
    const action = answer.answer === 'accept' ? 'transfer.approve' : answer.answer === 'object' ? 'transfer.object' : 'handover.askLater';
    try {
      const actor = await guard.allow(found.p, action, transferRef(found.t), 'transfer', 'transfer.read');
      await answerHandover(handoverDeps, actor, found.h, found.ht, answer);
    } catch (e) {
      if (e instanceof ProblemError) return page(<Layout title="Not possible"><h1>Not possible</h1><p>{e.message}</p></Layout>, e.status);
      throw e;
    }
    return c.redirect(`/me/handovers/${found.h.id}/tenancies/${found.ht.tenancyId}?done=${answer.answer}`, 303);
  });
}
