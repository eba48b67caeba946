// GET /: what this instance is and where to go from here (sign in, the
// member's page, the audit log, the API description, the sign-on and
// federation metadata). Same shell and headers as every other page.
import { Hono } from 'hono';
import type { Deps } from '../http/env.js';
import { Layout } from './layout.js';
import { WebSessions } from './session.js';
import { findAccount, hasPlatformAdmin } from '../accounts/service.js';

export function landingPage(deps: Pick<Deps, 'db' | 'config' | 'sso'>) {
  const { db, config, sso } = deps;
  const sessions = sso ? new WebSessions(sso, config.publicUrl, config.sso.sessionTtl) : undefined;
  const app = new Hono();

  app.get('/', async (c) => {
    const member = await sessions?.member(c);
    const account = member ? await findAccount(db, member.accountId) : undefined;
    const noAdmin = !(await hasPlatformAdmin(db));
    const host = new URL(config.publicUrl).host;
    return c.html(
      <Layout title={`meetplane at ${host}`}>
        <h1>meetplane at {host}</h1>
        <p>
          A control plane for co-operatives that host BigBlueButton: their clusters, the tenancies of their members, one sign-on for every co-op's
          front end, roles delegated between co-ops, and transfers of a tenancy from one co-op to another under data-protection rules, all recorded in
          an audit log anyone can verify.
        </p>
        {noAdmin && (
          <p role="note" class="bad">
            This instance has no platform admin yet. The server printed a one-time setup link in its log: open it in a browser on the server's machine, or
            run <code>meetplane admin bootstrap --email … --name …</code> there.
          </p>
        )}
        <h2>Members</h2>
        {account ? (
          <p>
            Signed in as {account.name} ({account.email}). <a href="/me">Your tenancies, transfers and data</a>.
          </p>
        ) : (
          <p>
            {sso ? (
              <a class="button" href="/me/login?next=%2Fme">
                Sign in
              </a>
            ) : (
              'Sign-on is not enabled on this instance.'
            )}{' '}
            <span class="muted">Your tenancies, any pending transfer of them, and your data are on <a href="/me">your page</a>.</span>
          </p>
        )}
        <h2>Auditors and operators</h2>
        <ul>
          <li>
            <a href="/audit">The audit log</a>: every change, with proofs against signed checkpoints (<code>meetplane audit verify</code> checks them
            without trusting this server).
          </li>
          <li>
            <a href="/api/v1/openapi.json">The REST API description</a> (OpenAPI 3.1); the <code>meetplane</code> CLI is a client of it.
          </li>
          {sso && (
            <li>
              <a href="/oidc/.well-known/openid-configuration">Sign-on discovery</a> for front ends (OpenID Connect).
            </li>
          )}
          <li>
            <a href="/healthz">Health</a> and <a href="/readyz">readiness</a>.
          </li>
        </ul>
      </Layout>,
    );
  });

  return app;
}
