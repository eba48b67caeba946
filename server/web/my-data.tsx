// The member's own data, from /me: download everything meetplane holds about
// them (GDPR Art. 15/20, one JSON document) and ask for their erasure (Art. 17),
// which asks for confirmation first. Both are POST forms carrying the page's
// CSRF token from the member's own origin; both are policy decisions
// (account.export, account.erase) and audited. In the member's language
// (./my-data-text.ts).
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { createHash } from 'node:crypto';
import type { Deps } from '../http/env.js';
import type { Principal } from '../auth/principal.js';
import { Layout } from './layout.js';
import { PAGE_HEADERS } from '../http/page-headers.js';
import { ProblemError } from '../http/problem.js';
import { appendAudit } from '../audit/trail.js';
import { person } from '../audit/subjects.js';
import { accountRef } from '../authz/guard.js';
import { findAccount, type Account } from '../accounts/service.js';
import { accountExport } from '../accounts/export.js';
import { sequenceAudit } from '../audit/sequencer.js';
import { eraseAccount, type ErasureReceipt } from '../accounts/erasure.js';
import type { MemberEnv } from './session.js';
import { formatInstant, type Lang } from './i18n.js';
import { MY_DATA_TEXT, type MyDataText } from './my-data-text.js';
import { memberLang } from './page-language.js';

/** What the session module lends these pages (passed in, so this module does not import it back). */
export interface MyDataKit {
  requireMember: MiddlewareHandler<MemberEnv>;
  csrf(sid: string): string;
  checkCsrf(sid: string, offered: unknown): boolean;
  sameOrigin(c: Context): boolean;
  /** Drops the page session cookie (after the account is erased). */
  signOut(c: Context): void;
  html(c: Context<MemberEnv>, element: unknown, status?: number): Promise<Response>;
}

const principalOf = (a: Account): Principal => ({ accountId: a.id, coopId: a.coopId, platformAdmin: a.platformAdmin, via: 'oidc', tokenId: null });

function Message(props: { lang: Lang; title: string; text: string }) {
  const T = MY_DATA_TEXT[props.lang];
  return (
    <Layout title={props.title} lang={props.lang}>
      <h1>{props.title}</h1>
      <p role="alert">{props.text}</p>
      <p>
        <a href="/me/data">{T.backToData}</a>
      </p>
    </Layout>
  );
}

function DataPage(props: { csrf: string; lang: Lang }) {
  const T = MY_DATA_TEXT[props.lang];
  return (
    <Layout title={T.title} lang={props.lang}>
      <h1>{T.title}</h1>
      <section aria-labelledby="export">
        <h2 id="export">{T.downloadHeading}</h2>
        <p>{T.downloadText}</p>
        <form method="post" action="/me/data/export">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit">{T.downloadButton}</button>
        </form>
      </section>
      <section aria-labelledby="erase">
        <h2 id="erase">{T.eraseHeading}</h2>
        <p>{T.eraseText}</p>
        <p>
          <a href="/me/data/erase">{T.eraseLink}</a>
        </p>
      </section>
      <p>
        <a href="/me">{T.backToPage}</a>
      </p>
    </Layout>
  );
}

function ConfirmErasure(props: { csrf: string; email: string; error?: string; lang: Lang }) {
  const T = MY_DATA_TEXT[props.lang];
  return (
    <Layout title={T.eraseHeading} lang={props.lang}>
      <h1>{T.eraseHeading}</h1>
      {props.error && (
        <p role="alert" class="bad">
          {props.error}
        </p>
      )}
      <p>
        {T.confirmText[0]}
        <strong>{props.email}</strong>
        {T.confirmText[1]}
      </p>
      <p class="muted">{T.kept}</p>
      <form method="post" action="/me/data/erase">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label>
          <input type="checkbox" name="confirm" value="yes" /> {T.understand}
        </label>
        <button type="submit">{T.eraseButton}</button>
      </form>
      <p>
        <a href="/me/data">{T.cancel}</a>
      </p>
    </Layout>
  );
}

function Erased(props: { receipt: ErasureReceipt; lang: Lang }) {
  const { receipt, lang } = props;
  const T = MY_DATA_TEXT[lang];
  return (
    <Layout title={T.erasedTitle} lang={lang}>
      <h1>{T.erasedHeading}</h1>
      <p>
        {T.erasedOn}
        <time datetime={receipt.erasedAt}>{formatInstant(new Date(receipt.erasedAt), lang)}</time>
        {T.keepReceipt}
      </p>
      <table>
        <caption class="muted">{T.whatDeleted}</caption>
        <tbody>
          <tr>
            <th scope="row">{T.nameAndEmail}</th>
            <td>{T.tombstone}</td>
          </tr>
          {Object.entries(receipt.deleted).map(([what, n]) => (
            <tr>
              <th scope="row">{what}</th>
              <td>{n}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">{T.rolesRevoked}</th>
            <td>{receipt.grantsRevoked.length}</td>
          </tr>
          <tr>
            <th scope="row">{T.membershipsEnded}</th>
            <td>{receipt.membershipsEnded.length}</td>
          </tr>
          <tr>
            <th scope="row">{T.pseudonymKey}</th>
            <td>{receipt.auditPseudonymKeyDestroyed ? T.destroyed : T.noneThere}</td>
          </tr>
        </tbody>
      </table>
      <pre>{JSON.stringify(receipt, null, 2)}</pre>
    </Layout>
  );
}

/** Why the erasure is refused, in the member's words; the API's detail when it is a refusal this page does not know. */
function refusalText(T: MyDataText, e: ProblemError): string {
  if (e.problemType.endsWith('only-owner')) return T.onlyOwner(((e.extensions.tenancies as Array<{ slug: string }> | undefined) ?? []).map((t) => t.slug));
  if (e.problemType.endsWith('last-platform-admin')) return T.lastAdmin;
  return e.message;
}

export function myDataPages(routes: Hono<MemberEnv>, kit: MyDataKit, { db, guard }: Deps): void {
  const refused = async (c: Context<MemberEnv>) => {
    const lang = await memberLang(c, db);
    return kit.html(c, Message({ lang, title: MY_DATA_TEXT[lang].refused, text: MY_DATA_TEXT[lang].notYourForm }), 403);
  };

  routes.get('/data', kit.requireMember, async (c) => kit.html(c, DataPage({ csrf: kit.csrf(c.get('memberSid')), lang: await memberLang(c, db) })));

  routes.post('/data/export', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    if (!kit.sameOrigin(c) || !kit.checkCsrf(c.get('memberSid'), form.csrf)) return refused(c);
    const account = (await findAccount(db, c.get('memberId')))!;
    const actor = await guard.allow(principalOf(account), 'account.export', accountRef(account), 'account');
    await sequenceAudit(db); // the read barrier: the export lists every entry committed so far
    const content = await accountExport(db, account.id);
    const json = JSON.stringify(content, null, 2);
    const sha256 = createHash('sha256').update(json).digest('hex');
    // That the data left is on record (its hash, not its content).
    await db.transaction((tx) => appendAudit(tx, { actor, action: 'account.export', subject: { type: 'account', id: person(account.id) }, evidence: { 'account-export': sha256 } }));
    return new Response(json, {
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Disposition': `attachment; filename="meetplane-my-data-${new Date().toISOString().slice(0, 10)}.json"`,
        'Repr-Digest': `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`,
        ...PAGE_HEADERS,
      },
    });
  });

  routes.get('/data/erase', kit.requireMember, async (c) => {
    const account = (await findAccount(db, c.get('memberId')))!;
    return kit.html(c, ConfirmErasure({ csrf: kit.csrf(c.get('memberSid')), email: account.email, lang: await memberLang(c, db, account.language) }));
  });

  routes.post('/data/erase', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    if (!kit.sameOrigin(c) || !kit.checkCsrf(c.get('memberSid'), form.csrf)) return refused(c);
    const account = (await findAccount(db, c.get('memberId')))!;
    const lang = await memberLang(c, db, account.language);
    const T = MY_DATA_TEXT[lang];
    if (form.confirm !== 'yes') return kit.html(c, ConfirmErasure({ csrf: kit.csrf(c.get('memberSid')), email: account.email, error: T.tickTheBox, lang }), 400);
    let receipt: ErasureReceipt;
    try {
      const actor = await guard.allow(principalOf(account), 'account.erase', accountRef(account), 'account');
      receipt = await eraseAccount(db, actor, account, 'requested by the person on their page');
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      return kit.html(c, Message({ lang, title: T.notYet, text: refusalText(T, e) }), e.status);
    }
    kit.signOut(c);
    return kit.html(c, Erased({ receipt, lang }));
  });
}
