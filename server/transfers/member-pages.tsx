// The member's page for a transfer of their tenancy (/me/transfers/{id}, the
// link in the notice mail): what moves, where to, when it freezes, and two
// buttons: consent, or object. A member's objection keeps their personal data
// out of the move; the owner's stops it. Signed in through the shared sign-on.
// Showing the page during the notice reaches the member: their notice period
// counts from then if the mail has not reached them first (notice-delivery.ts).
// The form carries the transfer's version, like an If-Match: an answer to a
// transfer that changed since the page was loaded is refused (412).
import type { Hono } from 'hono';
import { and, eq } from 'drizzle-orm';
import { memberships } from '../accounts/table.js';
import type { Deps } from '../http/env.js';
import { Layout } from '../web/layout.js';
import { RuleList } from '../web/rules.js';
import { render } from '../web/me.js';
import { requireMember, type MemberEnv, type WebSessions, PAGE_HEADERS } from '../web/session.js';
import { findAccount } from '../accounts/service.js';
import { findTenancy } from '../tenancies/service.js';
import { findCoop } from '../coops/service.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { ProblemError } from '../http/problem.js';
import type { Principal } from '../auth/principal.js';
import { UUID_RE } from '../ids.js';
import { accountRef, transferRef } from '../authz/guard.js';
import { findTransfer, objectToTransfer, transferDetails, type Transfer } from './service.js';
import { freezeNotBefore, noticeReach, recordShown } from './notice-delivery.js';
import { memberExportOwner, memberExportsOf, openMemberExport } from './member-export.js';

/** A member signed in through the shared sign-on, as the policies see them. */
const principalOf = (a: { id: string; coopId: string | null; platformAdmin: boolean }): Principal => ({ accountId: a.id, coopId: a.coopId, platformAdmin: a.platformAdmin, via: 'oidc', tokenId: null });

export function memberTransferPages(routes: Hono<MemberEnv>, sessions: WebSessions, deps: Deps): void {
  const { db, guard } = deps;
  const page = async (element: unknown, status = 200) => new Response(await render(element), { status, headers: { 'Content-Type': 'text/html; charset=utf-8', ...PAGE_HEADERS } });

  async function load(memberId: string, id: string) {
    const account = await findAccount(db, memberId);
    const t = UUID_RE.test(id) ? await findTransfer(db, id) : undefined;
    if (!account || !t) return undefined;
    const p = principalOf(account);
    if (!(await guard.canRead(p, 'transfer.read', transferRef(t)))) return undefined; // looks missing
    return { p, t };
  }

  /** Only a member of the tenancy is reached by seeing the page (an admin looking at it is not). */
  async function isMember(t: Transfer, accountId: string): Promise<boolean> {
    const [m] = await db.select({ id: memberships.accountId }).from(memberships).where(and(eq(memberships.tenancyId, t.tenancyId), eq(memberships.accountId, accountId)));
    return Boolean(m);
  }

  const missing = () => page(<Layout title="Not found"><h1>No such transfer</h1><p>There is no transfer of yours at this address.</p></Layout>, 404);

  routes.get('/transfers/:id', requireMember(sessions, deps), async (c) => {
    const found = await load(c.get('memberId'), c.req.param('id'));
    if (!found) return missing();
    if (found.t.state === 'notice' && (await isMember(found.t, found.p.accountId)))
      await db.transaction(async (tx) => {
        if (await recordShown(tx, found.t.id, found.p.accountId, new Date()))
          await appendAudit(tx, { actor: found.p, action: 'transfer.notice-shown', subject: { type: 'transfer', id: found.t.id }, details: { member: person(found.p.accountId) } });
      });
    return page(await TransferPage({ ...found, csrf: sessions.csrf(c.get('memberSid')), done: c.req.query('done') }));
  });

  routes.post('/transfers/:id', requireMember(sessions, deps), async (c) => {
    const found = await load(c.get('memberId'), c.req.param('id'));
    if (!found) return missing();
    const form = await c.req.parseBody();
    if (!sessions.checkCsrf(c.get('memberSid'), form.csrf)) return page(<Layout title="Refused"><h1>Refused</h1><p>This form did not come from your session here. Reload the page and try again.</p></Layout>, 403);
    const choice = form.choice === 'object' ? 'object' : form.choice === 'consent' ? 'consent' : undefined;
    if (!choice) return page(<Layout title="Refused"><h1>Refused</h1><p>Choose to consent or to object.</p></Layout>, 400);
    if (typeof form.version !== 'string' || !/^[0-9]{1,9}$/.test(form.version))
      return page(<Layout title="Refused"><h1>Refused</h1><p>This form does not say which version of the transfer you answer. Reload the page and try again.</p></Layout>, 428);
    if (Number(form.version) !== found.t.version)
      return page(<Layout title="Changed"><h1>The transfer changed</h1><p>The transfer changed since you loaded the page (it is {found.t.state} now). <a href={`/me/transfers/${found.t.id}`}>Look at it again</a> before you answer.</p></Layout>, 412);
    try {
      // Either answer is the member's response to the notice: the same permission.
      const actor = await guard.allow(found.p, 'transfer.object', transferRef(found.t), 'transfer', 'transfer.read');
      if (choice === 'object') await objectToTransfer(db, actor, found.t);
      else
        await db.transaction((tx) =>
          appendAudit(tx, { actor, action: 'transfer.consent', subject: { type: 'transfer', id: found.t.id }, details: { member: person(actor.accountId) } }),
        );
    } catch (e) {
      if (e instanceof ProblemError) return page(<Layout title="Not possible"><h1>Not possible</h1><p>{e.message}</p></Layout>, e.status);
      throw e;
    }
    return c.redirect(`/me/transfers/${found.t.id}?done=${choice}`, 303);
  });

  // A member's own Art. 20 exports: their personal data, so only they get it
  // (another account's export id answers like a missing one).
  routes.get('/exports', requireMember(sessions, deps), async (c) => {
    const mine = await memberExportsOf(db, c.get('memberId'));
    return page(
      <Layout title="Your data exports">
        <h1>Your data exports</h1>
        {mine.length === 0 ? (
          <p>You have no exports. One is made for you when you object to the transfer of a tenancy you are a member of.</p>
        ) : (
          <ul>
            {mine.map((e) => (
              <li>
                <a href={`/me/exports/${e.id}`} download>Export of {e.createdAt.toISOString().slice(0, 10)}</a> <span class="muted">SHA-256 {e.sha256}</span>
              </li>
            ))}
          </ul>
        )}
      </Layout>,
    );
  });

  routes.get('/exports/:id', requireMember(sessions, deps), async (c) => {
    const id = c.req.param('id');
    const owner = UUID_RE.test(id) ? await memberExportOwner(db, id) : undefined;
    const reader = await findAccount(db, c.get('memberId'));
    const allowed =
      owner && reader && (await guard.canRead(principalOf(reader), 'account.readExport', accountRef({ id: owner, coopId: (await findAccount(db, owner))?.coopId ?? null })));
    const found = allowed ? await openMemberExport(db, deps.box, id) : undefined;
    if (!found) return page(<Layout title="Not found"><h1>No such export</h1><p>There is no export of yours at this address.</p></Layout>, 404);
    return new Response(found.json, {
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="meetplane-export-${id}.json"`,
        // RFC 9530: the member can check the download against the hash in their mail.
        'Repr-Digest': `sha-256=:${Buffer.from(found.sha256, 'hex').toString('base64')}:`,
        ...PAGE_HEADERS,
      },
    });
  });

  async function TransferPage(props: { p: Principal; t: Transfer; csrf: string; done?: string }) {
    const { t } = props;
    const [tenancy, source, target, { objections }] = await Promise.all([findTenancy(db, t.tenancyId), findCoop(db, t.sourceCoopId), findCoop(db, t.targetCoopId), transferDetails(db, t.id)]);
    const mine = objections.find((o) => o.accountId === props.p.accountId);
    const freeze = freezeNotBefore(t, t.state === 'notice' ? await noticeReach(db, t) : undefined);
    const open = ['draft', 'checked', 'approved', 'notice'].includes(t.state);
    return (
      <Layout title={`${tenancy?.name ?? 'Tenancy'} is moving`}>
        <h1>{tenancy?.name} is moving to {target?.name}</h1>
        <dl>
          <dt>From</dt>
          <dd>{source?.name} ({source?.jurisdiction})</dd>
          <dt>To</dt>
          <dd>{target?.name} ({target?.jurisdiction})</dd>
          <dt>State</dt>
          <dd>{t.state}</dd>
          <dt>Frozen from</dt>
          <dd>{freeze ? <>not before <time datetime={freeze.toISOString()}>{freeze.toUTCString()}</time></> : 'not yet announced'}</dd>
        </dl>
        {t.state === 'rejected' && t.lastDecision && <RuleList ids={t.lastDecision.policyIds} heading="Why the transfer was stopped" />}
        <p>The tenancy's rooms, member accounts and recordings move. While it is frozen no new meeting can be started; meetings already running are given time to end.</p>
        {props.done === 'object' && <p class="ok" role="status">Your objection is recorded.</p>}
        {props.done === 'consent' && <p class="ok" role="status">Your consent is recorded.</p>}
        {mine ? (
          <p role="note">
            You objected{mine.kind === 'owner' ? ' as the owner: the transfer is stopped.' : ': your personal data stays out of the move and you receive an export of it instead.'}
            {mine.kind === 'member' && <> It appears under <a href="/me/exports">your data exports</a> when the tenancy moves.</>}
          </p>
        ) : open ? (
          <form method="post" action={`/me/transfers/${t.id}`}>
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="version" value={String(t.version)} />
            <fieldset>
              <legend>Your answer</legend>
              <p class="muted">If you object as a member, your personal data stays out of the move and you receive a machine-readable export of it. If the owner objects, the transfer stops.</p>
              <button type="submit" name="choice" value="consent">I consent</button>{' '}
              <button type="submit" name="choice" value="object">I object</button>
            </fieldset>
          </form>
        ) : (
          <p>Answers are no longer taken: the transfer is {t.state}.</p>
        )}
      </Layout>
    );
  }
}
