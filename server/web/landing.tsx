// GET /: what this instance is and where to go from here (sign in, the
// member's page, the audit log, the API description, the sign-on and
// federation metadata). Same shell and headers as every other page; in the
// signed-in member's language, else the browser's (./landing-text.ts).
import { Hono } from 'hono';
import type { Deps } from '../http/env.js';
import { Layout } from './layout.js';
import { WebSessions } from './session.js';
import { findAccount, hasPlatformAdmin } from '../accounts/service.js';
import { chooseLanguage } from './i18n.js';
import { LANDING_TEXT } from './landing-text.js';

export function landingPage(deps: Pick<Deps, 'db' | 'config' | 'sso'>) {
  const { db, config, sso } = deps;
  const sessions = sso ? new WebSessions(sso, config.publicUrl, config.sso.sessionTtl) : undefined;
  const app = new Hono();

  app.get('/', async (c) => {
    const member = await sessions?.member(c);
    const account = member ? await findAccount(db, member.accountId) : undefined;
    const noAdmin = !(await hasPlatformAdmin(db));
    const host = new URL(config.publicUrl).host;
    const lang = chooseLanguage(c.req.header('accept-language'), account?.language);
    const T = LANDING_TEXT[lang];
    return c.html(
      <Layout title={T.title(host)} lang={lang}>
        <h1>{T.title(host)}</h1>
        <p>{T.about}</p>
        {noAdmin && (
          <p role="note" class="bad">
            {T.noAdmin[0]}
            <code>meetplane admin bootstrap --email … --name …</code>
            {T.noAdmin[1]}
          </p>
        )}
        <h2>{T.members}</h2>
        {account ? (
          <p>
            {T.signedInAs(account.name, account.email)}
            <a href="/me">{T.yourPage}</a>.
          </p>
        ) : (
          <p>
            {sso ? (
              <a class="button" href="/me/login?next=%2Fme">
                {T.signIn}
              </a>
            ) : (
              T.noSso
            )}{' '}
            <span class="muted">
              {T.pageHint[0]}
              <a href="/me">{T.yourPageLink}</a>
              {T.pageHint[1]}
            </span>
          </p>
        )}
        <h2>{T.auditors}</h2>
        <ul>
          <li>
            <a href="/audit">{T.auditLog}</a>
            {T.auditHint[0]}
            <code>meetplane audit verify</code>
            {T.auditHint[1]}
          </li>
          <li>
            <a href="/api/v1/openapi.json">{T.apiDescription}</a>
            {T.apiHint[0]}
            <code>meetplane</code>
            {T.apiHint[1]}
          </li>
          {sso && (
            <li>
              <a href="/oidc/.well-known/openid-configuration">{T.discovery}</a>
              {T.discoveryHint}
            </li>
          )}
          <li>
            <a href="/healthz">{T.health}</a>
            {T.and}
            <a href="/readyz">{T.readiness}</a>.
          </li>
        </ul>
      </Layout>,
    );
  });

  return app;
}
