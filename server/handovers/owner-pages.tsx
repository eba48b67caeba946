// The owner's page for their tenancy in a hand-over
// (/me/handovers/{id}/tenancies/{tenancyId}, the link in the mail they get):
// what moves, where to and in which wave, and three answers: accept (their
// approval of the transfer), object (stay, export, or another host: the
// transfer stops) or ask for the next wave. The same decisions as the API's
// answer: the policies on the tenancy's transfer. The form carries the
// transfer's version and the session's CSRF token.
import type { Context, Hono } from 'hono';
import { and, eq } from 'drizzle-orm';
import type { Deps } from '../http/env.js';
import { Layout } from '../web/layout.js';
import { render } from '../web/me.js';
import { requireMember, type MemberEnv, type WebSessions, PAGE_HEADERS } from '../web/session.js';
import { findAccount } from '../accounts/service.js';
import { findCoop } from '../coops/service.js';
import { findTenancy, type Tenancy } from '../tenancies/service.js';
import { findTransfer, type Transfer } from '../transfers/service.js';
import { transferRef } from '../authz/guard.js';
import { ProblemError } from '../http/problem.js';
import { UUID_RE } from '../ids.js';
import type { Principal } from '../auth/principal.js';
import { handoverTenancies, handoverWaves } from './table.js';
import { findHandover, type Handover, type HandoverTenancy } from './plan.js';
import { answerHandover, type Answer } from './answers.js';
import { handoverDepsOf } from './build-deps.js';
import { OWNER_TEXT, type OwnerText } from './owner-text.js';
import { formatInstant, type Lang } from '../web/i18n.js';
import { memberLang } from '../web/page-language.js';

const principalOf = (a: { id: string; coopId: string | null; platformAdmin: boolean }): Principal => ({ accountId: a.id, coopId: a.coopId, platformAdmin: a.platformAdmin, via: 'oidc', tokenId: null });
const CHOICES = ['stay', 'export', 'other-host'] as const;
const isChoice = (v: unknown): v is (typeof CHOICES)[number] => (CHOICES as readonly unknown[]).includes(v);

export function ownerHandoverPages(routes: Hono<MemberEnv>, sessions: WebSessions, deps: Deps): void {
  const { db, guard } = deps;
  const handoverDeps = handoverDepsOf(deps);
  const page = async (element: unknown, status = 200) => new Response(await render(element), { status, headers: { 'Content-Type': 'text/html; charset=utf-8', ...PAGE_HEADERS } });
  const missing = (lang: Lang) => {
    const T = OWNER_TEXT[lang];
    return page(<Layout title={T.notFoundTitle} lang={lang}><h1>{T.notFoundHeading}</h1><p>{T.notFound}</p></Layout>, 404);
  };
  /**
   * The owner's language: their own choice, then their browser's, then the
   * tenancy's (its organisation's; only once the tenancy is theirs to see), then English.
   */
  const languageOf = (c: Context, memberId: string, found?: { language: string | null; tenancy?: Tenancy }): Promise<Lang> =>
    found ? memberLang(c, db, found.language, found.tenancy?.language ?? 'en') : memberLang(c, db);

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
    return { p, h, ht, t, language: account.language, tenancy: await findTenancy(db, ht.tenancyId) };
  }

  async function OwnerPage(props: { h: Handover; ht: HandoverTenancy; t: Transfer; tenancy: Tenancy | undefined; csrf: string; done?: string; lang: Lang }) {
    const { h, ht, t, lang } = props;
    const T: OwnerText = OWNER_TEXT[lang];
    const { tenancy } = props;
    const [source, target, [wave]] = await Promise.all([
      findCoop(db, h.sourceCoopId),
      findCoop(db, h.targetCoopId),
      db.select().from(handoverWaves).where(and(eq(handoverWaves.handoverId, h.id), eq(handoverWaves.n, ht.wave))),
    ]);
    const open = ht.state === 'transfer' && t.state === 'checked' && (h.state === 'approved' || h.state === 'running');
    return (
      <Layout title={T.title(tenancy?.name ?? '')} lang={lang}>
        <h1>{T.heading(tenancy?.name ?? '', target?.name ?? '')}</h1>
        <dl>
          <dt>{T.from}</dt>
          <dd>{source?.name} ({source?.jurisdiction})</dd>
          <dt>{T.to}</dt>
          <dd>{target?.name} ({target?.jurisdiction})</dd>
          <dt>{T.wave}</dt>
          <dd>{ht.wave}{wave ? <>, {T.frozenFrom} <time datetime={wave.freezeFrom.toISOString()}>{formatInstant(wave.freezeFrom, lang)}</time> {T.atTheEarliest}</> : null}</dd>
          <dt>{T.yourAnswer}</dt>
          <dd>{T.answers[ht.answer]}{ht.objection ? ` (${T.choices[ht.objection]})` : ''}</dd>
        </dl>
        {props.done && <p class="ok" role="status">{T.recorded}</p>}
        {open ? (
          <form method="post" action={`/me/handovers/${h.id}/tenancies/${ht.tenancyId}`}>
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="version" value={String(t.version)} />
            <fieldset>
              <legend>{T.asOwner}</legend>
              <p class="muted">{T.acceptMeans}</p>
              <button type="submit" name="answer" value="accept">{T.accept}</button>{' '}
              <button type="submit" name="answer" value="later">{T.later}</button>
            </fieldset>
            <fieldset>
              <legend>{T.objectLegend}</legend>
              {CHOICES.map((value, i) => (
                <label>
                  <input type="radio" name="choice" value={value} checked={i === 0} /> {T.choices[value]}
                </label>
              ))}
              <button type="submit" name="answer" value="object">{T.object}</button>
            </fieldset>
          </form>
        ) : (
          <p>{T.nothingToAnswer(ht.state, t.state.replace('_', ' '))}</p>
        )}
      </Layout>
    );
  }

  routes.get('/handovers/:id/tenancies/:tenancyId', requireMember(sessions, deps), async (c) => {
    const found = await load(c.get('memberId'), c.req.param('id'), c.req.param('tenancyId'));
    const lang = await languageOf(c, c.get('memberId'), found);
    if (!found) return missing(lang);
    return page(await OwnerPage({ ...found, csrf: sessions.csrf(c.get('memberSid')), done: c.req.query('done'), lang }));
  });

  routes.post('/handovers/:id/tenancies/:tenancyId', requireMember(sessions, deps), async (c) => {
    const found = await load(c.get('memberId'), c.req.param('id'), c.req.param('tenancyId'));
    const lang = await languageOf(c, c.get('memberId'), found);
    const T = OWNER_TEXT[lang];
    if (!found) return missing(lang);
    const form = await c.req.parseBody();
    const refused = (status: number, text: string) => page(<Layout title={T.refused} lang={lang}><h1>{T.refused}</h1><p>{text}</p></Layout>, status);
    if (!sessions.checkCsrf(c.get('memberSid'), form.csrf)) return refused(403, T.foreignForm);
    if (typeof form.version !== 'string' || Number(form.version) !== found.t.version) return refused(412, T.changed);
    let answer: Answer;
    if (form.answer === 'accept' || form.answer === 'later') answer = { answer: form.answer };
    else if (form.answer === 'object' && isChoice(form.choice)) answer = { answer: 'object', choice: form.choice };
    else return refused(400, T.chooseOne);
    const action = answer.answer === 'accept' ? 'transfer.approve' : answer.answer === 'object' ? 'transfer.object' : 'handover.askLater';
    try {
      const actor = await guard.allow(found.p, action, transferRef(found.t), 'transfer', 'transfer.read');
      await answerHandover(handoverDeps, actor, found.h, found.ht, answer);
    } catch (e) {
      if (e instanceof ProblemError) return page(<Layout title={T.notPossible} lang={lang}><h1>{T.notPossible}</h1><p>{e.message}</p></Layout>, e.status);
      throw e;
    }
    return c.redirect(`/me/handovers/${found.h.id}/tenancies/${found.ht.tenancyId}?done=${answer.answer}`, 303);
  });
}
