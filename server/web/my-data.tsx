// The member's own data, from /me: download everything meetplane holds about
// them (GDPR Art. 15/20, one JSON document) and ask for their erasure (Art. 17),
// which asks for confirmation first. Both are POST forms carrying the page's
// CSRF token from the member's own origin; both are policy decisions
// (account.export, account.erase) and audited.
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
import { eraseAccount, type ErasureReceipt } from '../accounts/erasure.js';
import type { MemberEnv } from './session.js';

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

function Message(props: { title: string; text: string; status?: 'bad' }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p role="alert">{props.text}</p>
      <p>
        <a href="/me/data">Back to your data</a>
      </p>
    </Layout>
  );
}

function DataPage(props: { csrf: string }) {
  return (
    <Layout title="Your data">
      <h1>Your data</h1>
      <section aria-labelledby="export">
        <h2 id="export">Download your data</h2>
        <p>A copy of everything meetplane holds about you, in one machine-readable file (JSON): your account, how you log in, your tenancies and roles, your tokens (not the tokens themselves), invitations, what transfers recorded about you, mails sent to you, and the audit log entries made by or about you.</p>
        <form method="post" action="/me/data/export">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit">Download my data</button>
        </form>
      </section>
      <section aria-labelledby="erase">
        <h2 id="erase">Erase your account</h2>
        <p>Deletes your name, e-mail address, password, co-op log-in links, tokens, invitations and exports for good, and ends your roles and memberships. It cannot be undone.</p>
        <p>
          <a href="/me/data/erase">Erase my account…</a>
        </p>
      </section>
      <p>
        <a href="/me">Back to your page</a>
      </p>
    </Layout>
  );
}

function ConfirmErasure(props: { csrf: string; email: string; error?: string }) {
  return (
    <Layout title="Erase your account">
      <h1>Erase your account</h1>
      {props.error && (
        <p role="alert" class="bad">
          {props.error}
        </p>
      )}
      <p>
        This erases the account <strong>{props.email}</strong> for good: your name, e-mail address, password, co-op log-in links, access tokens,
        invitations and exports are deleted, your roles and memberships end, and the audit log can no longer be linked to you. You are signed out
        everywhere. It cannot be undone.
      </p>
      <p class="muted">Kept: the account's id with the date it was created and erased, because records of transfers and roles refer to it; they hold nothing that names you.</p>
      <form method="post" action="/me/data/erase">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label>
          <input type="checkbox" name="confirm" value="yes" /> I understand that my account is erased for good
        </label>
        <button type="submit">Erase my account</button>
      </form>
      <p>
        <a href="/me/data">Cancel</a>
      </p>
    </Layout>
  );
}

function Erased(props: { receipt: ErasureReceipt }) {
  const { receipt } = props;
  return (
    <Layout title="Account erased">
      <h1>Your account is erased</h1>
      <p>
        Erased on <time datetime={receipt.erasedAt}>{new Date(receipt.erasedAt).toUTCString()}</time>. This is your receipt: keep it, nothing here can
        show it to you again.
      </p>
      <table>
        <caption class="muted">What was deleted</caption>
        <tbody>
          <tr>
            <th scope="row">Name and e-mail address</th>
            <td>replaced by a tombstone</td>
          </tr>
          {Object.entries(receipt.deleted).map(([what, n]) => (
            <tr>
              <th scope="row">{what}</th>
              <td>{n}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">Roles revoked</th>
            <td>{receipt.grantsRevoked.length}</td>
          </tr>
          <tr>
            <th scope="row">Memberships ended</th>
            <td>{receipt.membershipsEnded.length}</td>
          </tr>
          <tr>
            <th scope="row">Audit log pseudonym key</th>
            <td>{receipt.auditPseudonymKeyDestroyed ? 'destroyed' : 'there was none'}</td>
          </tr>
        </tbody>
      </table>
      <pre>{JSON.stringify(receipt, null, 2)}</pre>
    </Layout>
  );
}

export function myDataPages(routes: Hono<MemberEnv>, kit: MyDataKit, { db, guard }: Deps): void {
  const refused = (c: Context<MemberEnv>) =>
    kit.html(c, Message({ title: 'Refused', text: 'This form did not come from your session here. Reload the page and try again.' }), 403);

  routes.get('/data', kit.requireMember, (c) => kit.html(c, DataPage({ csrf: kit.csrf(c.get('memberSid')) })));

  routes.post('/data/export', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    if (!kit.sameOrigin(c) || !kit.checkCsrf(c.get('memberSid'), form.csrf)) return refused(c);
    const account = (await findAccount(db, c.get('memberId')))!;
    const actor = await guard.allow(principalOf(account), 'account.export', accountRef(account), 'account');
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
    return kit.html(c, ConfirmErasure({ csrf: kit.csrf(c.get('memberSid')), email: account.email }));
  });

  routes.post('/data/erase', kit.requireMember, async (c) => {
    const form = await c.req.parseBody();
    if (!kit.sameOrigin(c) || !kit.checkCsrf(c.get('memberSid'), form.csrf)) return refused(c);
    const account = (await findAccount(db, c.get('memberId')))!;
    if (form.confirm !== 'yes')
      return kit.html(c, ConfirmErasure({ csrf: kit.csrf(c.get('memberSid')), email: account.email, error: 'Tick the box to confirm that your account is erased for good.' }), 400);
    let receipt: ErasureReceipt;
    try {
      const actor = await guard.allow(principalOf(account), 'account.erase', accountRef(account), 'account');
      receipt = await eraseAccount(db, actor, account, 'requested by the person on their page');
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      return kit.html(c, Message({ title: 'Not possible yet', text: e.message }), e.status);
    }
    kit.signOut(c);
    return kit.html(c, Erased({ receipt }));
  });
}
