// The hand-over's page for both co-ops' admins (/me/handovers/{id}), signed in
// through the shared sign-on: the waves with their progress, every tenancy's
// answer and state, the failures with their reasons, and the open tasks
// (blocking first). Read-only: changes go through the API and the CLI.
import type { Hono } from 'hono';
import { inArray } from 'drizzle-orm';
import type { Deps } from '../http/env.js';
import { Layout } from '../web/layout.js';
import { render } from '../web/me.js';
import { requireMember, type MemberEnv, type WebSessions, PAGE_HEADERS } from '../web/session.js';
import { findAccount } from '../accounts/service.js';
import { findCoop } from '../coops/service.js';
import { tenancies } from '../tenancies/table.js';
import { UUID_RE } from '../ids.js';
import type { Principal } from '../auth/principal.js';
import { handoverRef } from './refs.js';
import { findHandover } from './plan.js';
import { progressOf } from './progress.js';
import { guideSettingsOf, operationsGuide } from './guide.js';
import { guideHtml } from './guide-html.js';
import { raw } from 'hono/html';

const principalOf = (a: { id: string; coopId: string | null; platformAdmin: boolean }): Principal => ({ accountId: a.id, coopId: a.coopId, platformAdmin: a.platformAdmin, via: 'oidc', tokenId: null });

const mb = (n: number) => `${(n / 1_000_000).toFixed(1)} MB`;

export function handoverPages(routes: Hono<MemberEnv>, sessions: WebSessions, deps: Deps): void {
  const { db, guard } = deps;
  const page = async (element: unknown, status = 200) => new Response(await render(element), { status, headers: { 'Content-Type': 'text/html; charset=utf-8', ...PAGE_HEADERS } });

  // The operations guide, as the API gives it in Markdown, rendered for reading.
  routes.get('/handovers/:id/guide', requireMember(sessions, deps), async (c) => {
    const account = await findAccount(db, c.get('memberId'));
    const h = UUID_RE.test(c.req.param('id')) ? await findHandover(db, c.req.param('id')) : undefined;
    if (!account || !h || !(await guard.canRead(principalOf(account), 'handover.read', handoverRef(h))))
      return page(<Layout title="Not found"><h1>No such hand-over</h1><p>There is no hand-over you may see at this address.</p></Layout>, 404);
    const md = await operationsGuide(db, h, guideSettingsOf(deps.config));
    return page(
      <Layout title={`Operations guide: ${h.name}`}>
        {raw(guideHtml(md))}
        <p><a href={`/me/handovers/${h.id}`}>Back to the hand-over</a> · <a href={`/api/v1/handovers/${h.id}/guide`}>Markdown (API)</a></p>
      </Layout>,
    );
  });

  routes.get('/handovers/:id', requireMember(sessions, deps), async (c) => {
    const account = await findAccount(db, c.get('memberId'));
    const h = UUID_RE.test(c.req.param('id')) ? await findHandover(db, c.req.param('id')) : undefined;
    // Missing and not yours look the same.
    if (!account || !h || !(await guard.canRead(principalOf(account), 'handover.read', handoverRef(h))))
      return page(<Layout title="Not found"><h1>No such hand-over</h1><p>There is no hand-over you may see at this address.</p></Layout>, 404);
    const [p, source, target] = await Promise.all([progressOf(db, h), findCoop(db, h.sourceCoopId), findCoop(db, h.targetCoopId)]);
    const ids = p.tenancies.map((t) => t.tenancyId);
    const names = new Map((ids.length ? await db.select({ id: tenancies.id, name: tenancies.name }).from(tenancies).where(inArray(tenancies.id, ids)) : []).map((t) => [t.id, t.name]));
    const name = (id: string) => names.get(id) ?? id;
    return page(
      <Layout title={h.name}>
        <h1>{h.name}</h1>
        <dl>
          <dt>From</dt>
          <dd>{source?.name}</dd>
          <dt>To</dt>
          <dd>{target?.name}</dd>
          <dt>State</dt>
          <dd>{h.state}</dd>
          <dt>Cut-over</dt>
          <dd>{h.cutOverAt ? <>done <time datetime={h.cutOverAt.toISOString()}>{h.cutOverAt.toUTCString()}</time></> : <>planned <time datetime={h.cutoverAt.toISOString()}>{h.cutoverAt.toUTCString()}</time></>}</dd>
          <dt>Source decommissioned</dt>
          <dd><time datetime={h.decommissionAt.toISOString()}>{h.decommissionAt.toUTCString()}</time></dd>
        </dl>
        <h2>Waves</h2>
        <table>
          <thead>
            <tr><th>Wave</th><th>Freeze window</th><th>At once</th><th>Tenancies</th><th>Moved</th><th>Stayed</th><th>Failed</th><th>On the way</th><th>Copied</th></tr>
          </thead>
          <tbody>
            {p.waves.map((w) => (
              <tr>
                <td>{w.n}</td>
                <td>{w.freezeFrom.slice(0, 16).replace('T', ' ')} to {w.freezeUntil.slice(0, 16).replace('T', ' ')} UTC</td>
                <td>{w.concurrency}</td>
                <td>{w.tenancies}</td>
                <td>{w.moved}</td>
                <td>{w.stayed}</td>
                <td>{w.failed}</td>
                <td>{w.onTheWay}</td>
                <td><progress value={String(w.bytesDone)} max={String(Math.max(1, w.bytesTotal))} aria-label={`wave ${w.n} copied`} /> {mb(w.bytesDone)} of {mb(w.bytesTotal)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Failures</h2>
        {p.failures.length ? (
          <ul>{p.failures.map((f) => <li>{name(f.tenancyId)}: {f.reason}</li>)}</ul>
        ) : (
          <p>None.</p>
        )}
        <p><a href={`/me/handovers/${h.id}/guide`}>The platform's operations guide</a>, generated from meetplane's records.</p>
        <h2>Open tasks</h2>
        {p.openTasks.length ? (
          <ul>{p.openTasks.map((t) => <li>{t.blocking && <strong>Blocks the cut-over: </strong>}{t.title} ({t.status}{t.dueOn ? `, due ${t.dueOn}` : ''})</li>)}</ul>
        ) : (
          <p>None.</p>
        )}
        <h2>Tenancies</h2>
        <table>
          <thead>
            <tr><th>Tenancy</th><th>Wave</th><th>Owner's answer</th><th>State</th><th>Transfer</th></tr>
          </thead>
          <tbody>
            {p.tenancies.map((t) => (
              <tr><td>{name(t.tenancyId)}</td><td>{t.wave || 'custody'}</td><td>{t.answer}{t.objection ? ` (${t.objection})` : ''}</td><td>{t.state}</td><td>{t.transferState ?? ''}</td></tr>
            ))}
          </tbody>
        </table>
      </Layout>,
    );
  });
}
