// A co-op's own OpenID provider, as the brokering tests need one: a bare
// oidc-provider on node:http on a loopback port, its in-memory adapter, its
// development login page (any user name logs in as that subject), and a
// directory of people whose claims the test sets.
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from './helpers.js';

export interface UpstreamPerson {
  email: string;
  email_verified: boolean;
  name?: string;
}

export interface UpstreamIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** sub → claims; change it between log-ins. */
  people: Map<string, UpstreamPerson>;
  stop(): Promise<void>;
}

export async function startUpstreamIdp(redirectUri: string): Promise<UpstreamIdp> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const people = new Map<string, UpstreamPerson>();
  const clientId = 'meetplane-broker';
  const clientSecret = 'upstream-client-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    // Distinct cookie names: both providers live on 127.0.0.1, and cookies ignore ports.
    cookies: { names: { session: 'up_session', interaction: 'up_interaction', resume: 'up_resume' }, keys: ['upstream-cookie-key'] },
    async findAccount(_ctx, sub) {
      const who = people.get(sub);
      if (!who) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...who }) };
    },
    // The co-op trusts its own broker: no consent screen.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    issuer,
    clientId,
    clientSecret,
    people,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
