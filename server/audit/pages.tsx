// Web pages for auditors: browse entries, read one with its proof status,
// see every entry about one subject (e.g. a transfer) together, and download
// an entry's offline bundle. An auditor signs in with meetplane's sign-on (a
// platform admin's member session, see ../web/session.ts) or with an access
// token, kept in an HttpOnly, SameSite=Strict cookie scoped to /audit.
// Signing out is a form post carrying a CSRF token (a link could be followed
// by any page); a member session signs out through /me/logout.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv, Deps } from '../http/env.js';
import { PLATFORM } from '../authz/guard.js';
import { Layout } from '../web/layout.js';
import { RuleList } from '../web/rules.js';
import { principalForPat } from '../accounts/tokens.js';
import { findAccount } from '../accounts/service.js';
import { WebSessions, sameOrigin } from '../web/session.js';
import type { Principal } from '../auth/principal.js';
import { findEntries, findEntry, DbNodeReader } from './store.js';
import { inclusionProof, leafHash, verifyInclusion } from './merkle.js';
import { parseCheckpoint } from './note.js';
import { buildBundle } from './bundle.js';
import { sequenceAudit } from './sequencer.js';

const COOKIE = 'mp_audit';
const PAGE = 50;

interface EntryJson {
  index: number;
  time: string;
  action: string;
  outcome: string;
  subject: { type: string; id: string };
  actor: { ref: string | null; coop: string | null; via: string };
}

const decode = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8')) as EntryJson & Record<string, unknown>;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export function auditPages({ db, signer, config, sso, guard }: Deps) {
  const app = new Hono<AppEnv>();
  const secure = config.publicUrl.startsWith('https:');
  const sessions = sso ? new WebSessions(sso, config.publicUrl, config.sso.sessionTtl) : undefined;

  /** Whoever the policies let read the audit log (auditors, platform admins). */
  const mayAudit = async (p: Principal | null) => (p && (await guard.canRead(p, 'audit.read', PLATFORM)) ? p : null);

  async function auditor(c: Context<AppEnv>): Promise<Principal | null> {
    const token = getCookie(c, COOKIE);
    if (token) return mayAudit(await principalForPat(db, token));
    const member = await sessions?.member(c);
    const account = member ? await findAccount(db, member.accountId) : undefined;
    return mayAudit(account ? { accountId: account.id, coopId: account.coopId, platformAdmin: account.platformAdmin, via: 'oidc', tokenId: null } : null);
  }

  // CSRF tokens bound to the token cookie: the sign-on's form tokens when it
  // runs (they survive restarts and span processes), a process key otherwise.
  const localKey = randomBytes(32);
  const bind = (token: string) => 'audit:' + createHash('sha256').update(token).digest('base64url');
  const csrfFor = (token: string) => (sso ? sso.csrfFor(bind(token)) : createHmac('sha256', localKey).update(bind(token)).digest('base64url'));
  const checkCsrf = (token: string, offered: unknown) => {
    if (sso) return sso.checkCsrf(bind(token), offered);
    const got = Buffer.from(typeof offered === 'string' ? offered : '');
    const expected = Buffer.from(csrfFor(token));
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  /** The sign-out form of this session: /audit/logout for a token cookie, the member log-out for a member session. */
  async function signOut(c: Context<AppEnv>): Promise<{ action: string; csrf: string } | null> {
    const token = getCookie(c, COOKIE);
    if (token) return { action: '/audit/logout', csrf: csrfFor(token) };
    const member = await sessions?.member(c);
    return member && sessions ? { action: '/me/logout', csrf: sessions.csrf(member.sid) } : null;
  }

  const Nav = (props: { out: { action: string; csrf: string } | null }) => (
    <nav aria-label="Audit">
      <a href="/audit">Entries</a>
      {props.out && (
        <form method="post" action={props.out.action} style="display:inline; margin-left:1rem">
          <input type="hidden" name="csrf" value={props.out.csrf} />
          <button type="submit" style="margin:0">
            Sign out
          </button>
        </form>
      )}
    </nav>
  );

  app.get('/login', (c) => c.html(<LoginPage sso={!!sessions} />));

  app.post('/login', async (c) => {
    // Cross-site posts are refused: the form is only valid from this origin.
    if (!sameOrigin(c, config.publicUrl)) return c.html(<LoginPage error="This sign-in form was sent from another site." />, 403);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const p = await mayAudit(token ? await principalForPat(db, token) : null);
    if (!p) return c.html(<LoginPage error="That token is not valid for auditors." />, 401);
    setCookie(c, COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/audit', secure, maxAge: 8 * 3600 });
    return c.redirect('/audit', 303);
  });

  app.post('/logout', async (c) => {
    const token = getCookie(c, COOKIE);
    const form = await c.req.parseBody();
    if (!token || !sameOrigin(c, config.publicUrl) || !checkCsrf(token, form.csrf))
      return c.html(
        <Layout title="Not signed out">
          <h1>Not signed out</h1>
          <p role="alert" class="bad">
            This sign-out form did not come from your session here. Go back to <a href="/audit">the audit log</a> and use its Sign out button.
          </p>
        </Layout>,
        403,
      );
    deleteCookie(c, COOKIE, { path: '/audit', secure });
    return c.redirect('/audit/login', 303);
  });

  app.use('*', async (c, next) => {
    if (!(await auditor(c))) return c.redirect('/audit/login', 303);
    await sequenceAudit(db); // the read barrier: what committed so far is in the pages
    await next();
  });

  // An old bookmark of the sign-out link: a page with the button, nothing ends on a GET.
  app.get('/logout', async (c) => {
    const out = await signOut(c);
    return c.html(
      <Layout title="Sign out" nav={<Nav out={null} />}>
        <h1>Sign out of the audit pages?</h1>
        {out && (
          <form method="post" action={out.action}>
            <input type="hidden" name="csrf" value={out.csrf} />
            <button type="submit">Sign out</button>
          </form>
        )}
      </Layout>,
    );
  });

  app.get('/', async (c) => {
    const q = c.req.query();
    const from = Math.max(0, Number.parseInt(q.from ?? '0', 10) || 0);
    const rows = await findEntries(db, {
      from,
      action: q.action || undefined,
      subjectType: q.subjectType || undefined,
      subjectIds: q.subject ? [q.subject] : undefined,
      limit: PAGE + 1,
    });
    const entries = rows.slice(0, PAGE).map((r) => decode(r.entry));
    const next = rows.length > PAGE ? rows[PAGE]!.idx : null;
    const keep = new URLSearchParams(Object.entries({ action: q.action ?? '', subjectType: q.subjectType ?? '', subject: q.subject ?? '' }).filter(([, v]) => v));
    return c.html(
      <Layout title="Audit log" nav={<Nav out={await signOut(c)} />}>
        <h1>Audit log</h1>
        <form class="filters" method="get" action="/audit">
          <div>
            <label for="action">Action</label>
            <input id="action" name="action" value={q.action ?? ''} placeholder="e.g. tenancy.update" />
          </div>
          <div>
            <label for="subjectType">Subject type</label>
            <input id="subjectType" name="subjectType" value={q.subjectType ?? ''} placeholder="e.g. transfer" />
          </div>
          <div>
            <label for="subject">Subject id</label>
            <input id="subject" name="subject" value={q.subject ?? ''} />
          </div>
          <div>
            <label for="from">From index</label>
            <input id="from" name="from" type="number" min="0" value={String(from)} />
          </div>
          <button type="submit">Show</button>
        </form>
        <EntryTable entries={entries} />
        {next !== null && (
          <p>
            <a href={`/audit?${new URLSearchParams([...keep, ['from', String(next)]])}`}>Next entries →</a>
          </p>
        )}
      </Layout>,
    );
  });

  app.get('/subjects/:type/:id', async (c) => {
    const { type, id } = c.req.param();
    const rows = await findEntries(db, { subjectType: type, subjectIds: [id], limit: 1000 });
    return c.html(
      <Layout title={`${type} ${id}`} nav={<Nav out={await signOut(c)} />}>
        <h1>
          Every entry about {type} <code>{id}</code>
        </h1>
        <p class="muted">{rows.length} entries, in log order.</p>
        <EntryTable entries={rows.map((r) => decode(r.entry))} />
      </Layout>,
    );
  });

  app.get('/entries/:index{[0-9]+}', async (c) => {
    const index = Number(c.req.param('index'));
    const row = await findEntry(db, index);
    if (!row)
      return c.html(
        <Layout title="Not found" nav={<Nav out={await signOut(c)} />}>
          <h1>No entry {index}</h1>
        </Layout>,
        404,
      );
    const { note, size } = await signer.issue(db);
    const cp = parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
    const proof = await inclusionProof(new DbNodeReader(db), index, size);
    const included = verifyInclusion(leafHash(row.entry), index, size, proof, cp.rootHash);
    const entry = decode(row.entry);
    return c.html(
      <Layout title={`Entry ${index}`} nav={<Nav out={await signOut(c)} />}>
        <h1>Entry {index}</h1>
        <p>
          <strong>{entry.action}</strong> on{' '}
          <a href={`/audit/subjects/${encodeURIComponent(entry.subject.type)}/${encodeURIComponent(entry.subject.id)}`}>
            {entry.subject.type} {entry.subject.id}
          </a>{' '}
          at <time datetime={entry.time}>{entry.time}</time>: {entry.outcome}
        </p>
        <RuleList ids={deniedBy(entry)} heading="Refused by" />
        <p class={included ? 'ok' : 'bad'} role="status">
          {included ? `Included in the signed tree of size ${size}.` : `NOT included in the signed tree of size ${size}.`}
        </p>
        <p class="muted">
          This is what the server says of itself. Verify independently with <code>meetplane audit prove {index}</code> and
          your pinned key, or with the bundle.
        </p>
        <p>
          <a class="button" href={`/audit/bundle/${index}`} download={`meetplane-audit-${index}.json`}>
            Download the offline bundle
          </a>
        </p>
        <h2>Entry (canonical JSON)</h2>
        <pre>{JSON.stringify(entry, null, 2)}</pre>
        <h2>Leaf hash</h2>
        <p>
          <code>{b64(row.leafHash)}</code>
        </p>
        <h2>Checkpoint</h2>
        <pre>{note}</pre>
      </Layout>,
    );
  });

  app.get('/bundle/:index{[0-9]+}', async (c) => {
    const index = Number(c.req.param('index'));
    const bundle = await buildBundle(db, signer, index);
    if (!bundle) return c.text('no such entry', 404);
    c.header('Content-Disposition', `attachment; filename="meetplane-audit-${index}.json"`);
    return c.json(bundle);
  });

  return app;
}

/** The rules an entry records as refusing: its permission decision's, and its data-protection decision's. */
function deniedBy(entry: EntryJson): string[] {
  const e = entry as unknown as { decision?: { decision?: string; policyIds?: string[] }; details?: { dataProtection?: { decision?: string; policyIds?: string[] } } };
  const ids = [e.decision, e.details?.dataProtection].flatMap((d) => (d?.decision === 'deny' && Array.isArray(d.policyIds) ? d.policyIds : []));
  return [...new Set(ids)];
}

function EntryTable(props: { entries: EntryJson[] }) {
  if (props.entries.length === 0) return <p>No entries match.</p>;
  return (
    <table>
      <caption class="muted" style="text-align:left">
        Actors are pseudonymous references; subjects link to every entry about them.
      </caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Action</th>
          <th scope="col">Subject</th>
          <th scope="col">Outcome</th>
          <th scope="col">Actor</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr>
            <td>
              <a href={`/audit/entries/${e.index}`}>{e.index}</a>
            </td>
            <td>
              <time datetime={e.time}>{e.time.replace('T', ' ').replace(/\.\d+Z$/, '')}</time>
            </td>
            <td>{e.action}</td>
            <td>
              <a href={`/audit/subjects/${encodeURIComponent(e.subject.type)}/${encodeURIComponent(e.subject.id)}`}>
                {e.subject.type} {e.subject.id.slice(0, 13)}
              </a>
            </td>
            <td>{e.outcome}</td>
            <td>
              <code>{e.actor.ref ?? 'local operator'}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function LoginPage(props: { error?: string; sso?: boolean }) {
  return (
    <Layout title="Auditor sign-in">
      <h1>Auditor sign-in</h1>
      {props.error && (
        <p class="bad" role="alert">
          {props.error}
        </p>
      )}
      {props.sso && (
        <p>
          <a class="button" href="/me/login?next=%2Faudit">Sign in with your meetplane account</a>
        </p>
      )}
      <form method="post" action="/audit/login">
        <label for="token">Access token</label>
        <input id="token" name="token" type="password" autocomplete="off" required autofocus />
        <p class="muted">An auditor's personal access token (mp_pat_…). It is kept in a cookie for this site only.</p>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
