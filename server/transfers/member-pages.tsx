// The member's page for a transfer of their tenancy (/me/transfers/{id}, the
// link in the notice mail, and on /me): what a member is owed before their data
// moves (./member-notice.tsx), and two answers, set apart: consent, or object
// (asked once more, saying what follows). A member's objection keeps their personal data
// out of the move; the owner's stops it. Signed in through the shared sign-on.
// Showing the page during the notice reaches the member: their notice period
// counts from then if the mail has not reached them first (notice-delivery.ts).
// The form carries the transfer's version, like an If-Match: an answer to a
// transfer that changed since the page was loaded is refused (412).
import { roomLink } from '../greenlight/transfer-move.js';
import type { Hono } from 'hono';
import { and, count, eq } from 'drizzle-orm';
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
import { MemberNotice, type NoticeFacts } from './member-notice.js';
import { NOTICE_TEXT } from './member-notice-text.js';
import { chooseLanguage, formatInstant, type Lang } from '../web/i18n.js';
import { jurisdictionRegistry } from './deps.js';
import { clusters } from '../clusters/table.js';
import { recordings, rooms } from '../inventory/table.js';
import { describeTarget } from './target.js';


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
    return { p, t, language: account.language };
  }

  async function memberRole(t: Transfer, accountId: string): Promise<string | undefined> {
    const [m] = await db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.tenancyId, t.tenancyId), eq(memberships.accountId, accountId)));
    return m?.role;
  }

  /** Only a member of the tenancy is reached by seeing the page (an admin looking at it is not). */
  async function isMember(t: Transfer, accountId: string): Promise<boolean> {
    return (await memberRole(t, accountId)) !== undefined;
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
    return page(await TransferPage({ p: found.p, t: found.t, csrf: sessions.csrf(c.get('memberSid')), done: c.req.query('done'), lang: chooseLanguage(c.req.header('accept-language'), found.language) }));
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
    // Objecting has consequences: it is asked once more, saying what follows, before it counts.
    if (choice === 'object' && form.confirm !== 'yes') {
      const owner = (await memberRole(found.t, found.p.accountId)) === 'owner';
      return page(<ObjectionConfirmPage t={found.t} owner={owner} csrf={sessions.csrf(c.get('memberSid'))} lang={chooseLanguage(c.req.header('accept-language'), found.language)} />);
    }
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

  function ObjectionConfirmPage(props: { t: Transfer; owner: boolean; csrf: string; lang: Lang }) {
    const { t } = props;
    const T = NOTICE_TEXT[props.lang];
    return (
      <Layout title={T.confirmTitle} lang={props.lang}>
        <h1>{T.confirmHeading}</h1>
        <section class="panel object" aria-labelledby="what-follows">
          <h2 id="what-follows">{T.whatFollows}</h2>
          <ul>
            {(props.owner ? T.followsOwner : T.followsMember).map((line) => (
              <li>{line}</li>
            ))}
          </ul>
          {!props.owner && (
            <p>
              <a href="/me/exports">{T.yourExports}</a>
            </p>
          )}
          <p>{T.noWithdraw}</p>
          <form method="post" action={`/me/transfers/${t.id}`}>
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="version" value={String(t.version)} />
            <input type="hidden" name="choice" value="object" />
            <input type="hidden" name="confirm" value="yes" />
            <button type="submit" class="danger">{T.yesObject}</button>
            <a class="button secondary" href={`/me/transfers/${t.id}`}>{T.goBack}</a>
          </form>
        </section>
      </Layout>
    );
  }

  /** The reader's own Greenlight rooms in the transfer's move (none when it moves no Greenlight rooms). */
  function yourRooms(t: Transfer, accountId: string, objected: boolean): NoticeFacts['yourRooms'] {
    const m = t.greenlight;
    if (!m) return undefined;
    const rooms = m.rooms.filter((r) => r.owner === accountId).map((r) => ({ name: r.name, link: roomLink(m.targetBaseUrl, r.friendlyId), recordings: r.recordings }));
    return { stay: objected, rooms };
  }

  async function noticeFacts(t: Transfer): Promise<NoticeFacts | undefined> {
    const [tenancy, source, target, [roomCount], [recCount]] = await Promise.all([
      findTenancy(db, t.tenancyId),
      findCoop(db, t.sourceCoopId),
      describeTarget(db, t),
      db.select({ n: count() }).from(rooms).where(eq(rooms.tenancyId, t.tenancyId)),
      db.select({ n: count() }).from(recordings).where(eq(recordings.tenancyId, t.tenancyId)),
    ]);
    if (!tenancy || !source || !target) return undefined;
    const now = new Date();
    return {
      tenancy: { name: tenancy.name, retentionDays: tenancy.retentionDays },
      source: { name: source.name, country: source.jurisdiction, contactEmail: source.contactEmail, regime: source.legalRegime },
      target: { name: target.name, country: target.jurisdiction, contactEmail: target.contactEmail },
      storageCountry: target.clusterCountry,
      evidence: t.evidence,
      counts: { rooms: roomCount?.n ?? 0, recordings: recCount?.n ?? 0 },
      noticeSentAt: t.noticeSentAt,
      takesEffect: freezeNotBefore(t, t.state === 'notice' ? await noticeReach(db, t) : undefined),
      completedAt: t.state === 'completed' ? t.stateSince : null,
      sourceDeletedAt: t.sourceDeletedAt,
      sourceGraceDays: Math.round(deps.config.transferTiming.sourceGraceMs / 86_400_000),
      meetingGraceMinutes: Math.round(deps.config.transferTiming.meetingGraceMs / 60_000),
      today: now.toISOString().slice(0, 10),
    };
  }

  async function TransferPage(props: { p: Principal; t: Transfer; csrf: string; done?: string; lang: Lang }) {
    const { t, lang } = props;
    const T = NOTICE_TEXT[lang];
    const [f, { objections }] = await Promise.all([noticeFacts(t), transferDetails(db, t.id)]);
    const mine = objections.find((o) => o.accountId === props.p.accountId);
    if (f) f.yourRooms = yourRooms(t, props.p.accountId, !!mine);
    const open = ['draft', 'checked', 'approved', 'notice'].includes(t.state);
    const tenancy = f?.tenancy.name ?? '';
    return (
      <Layout title={T.title(tenancy)} lang={lang}>
        <h1>{T.heading(tenancy, f?.target.name ?? '')}</h1>
        <p>
          {T.intro(f?.source.name ?? '', t.state)}
          {f?.takesEffect && (
            <>
              {T.takesEffectShort}
              <time datetime={f.takesEffect.toISOString()}>{formatInstant(f.takesEffect, lang)}</time>
            </>
          )}
          {T.introEnd}
        </p>
        {props.done === 'object' && <p class="ok" role="status">{T.objectionRecorded}</p>}
        {props.done === 'consent' && <p class="ok" role="status">{T.consentRecorded}</p>}
        {t.state === 'rejected' && t.lastDecision && <RuleList ids={t.lastDecision.policyIds} heading={T.stoppedWhy} />}
        {f && <MemberNotice f={f} registry={jurisdictionRegistry()} lang={lang} />}
        <section aria-labelledby="answer">
          <h2 id="answer">{T.answer}</h2>
          {mine ? (
            <p role="note">
              {mine.kind === 'owner' ? T.objectedOwner : T.objectedMember}
              {mine.kind === 'member' && (
                <>
                  {T.exportAppears} <a href="/me/exports">{T.yourExports}</a>
                </>
              )}
            </p>
          ) : open ? (
            <>
              <form method="post" action={`/me/transfers/${t.id}`} class="panel consent" aria-labelledby="consent-h">
                <h3 id="consent-h">{T.agreeHeading}</h3>
                <p>{T.agreeText}</p>
                <input type="hidden" name="csrf" value={props.csrf} />
                <input type="hidden" name="version" value={String(t.version)} />
                <button type="submit" name="choice" value="consent">{T.consentButton}</button>
              </form>
              <form method="post" action={`/me/transfers/${t.id}`} class="panel object" aria-labelledby="object-h">
                <h3 id="object-h">{T.objectHeading}</h3>
                <p>{T.objectText}</p>
                <input type="hidden" name="csrf" value={props.csrf} />
                <input type="hidden" name="version" value={String(t.version)} />
                <button type="submit" name="choice" value="object" class="danger">{T.objectButton}</button>
              </form>
            </>
          ) : (
            <p>{T.closed(t.state)}</p>
          )}
        </section>
      </Layout>
    );
  }
}
