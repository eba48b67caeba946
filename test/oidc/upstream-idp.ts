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

/**
 * `opts.port` starts it on a port chosen beforehand (its issuer registered first); `opts.client`
 * replaces the client's authentication, e.g. { token_endpoint_auth_method: 'private_key_jwt', jwks_uri }.
 */
export async function startUpstreamIdp(redirectUri: string, opts: { port?: number; clientId?: string; client?: Record<string, unknown> } = {}): Promise<UpstreamIdp> {
  const port = opts.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const people = new Map<string, UpstreamPerson>();
  const clientId = opts.clientId ?? 'meetplane-broker';
  const clientSecret = 'upstream-client-secret-0123456789';
  const auth = opts.client ?? { client_secret: clientSecret };
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, ...auth, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    // It fetches a client's jwks_uri (meetplane's key for private_key_jwt) from loopback, which
    // oidc-provider's protection against requests to special-use addresses would refuse.
    fetch: (url, options) => globalThis.fetch(url, { ...options, dispatcher: undefined } as RequestInit),
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
