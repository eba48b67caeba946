// Shared by the sign-on tests: a server whose PUBLIC_URL is its real loopback
// address (the issuer must match what clients reach), openid-client set up
// for an http issuer, accounts with passwords, and registered clients.
import { createServer } from 'node:net';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop } from '../support/fixtures.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startSsoServer(env: Record<string, string> = {}): Promise<TestServer & { issuer: string; apiResource: string }> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  // A cheaper scrypt cost keeps the suite fast; production uses 2^17.
  const s = await startTestServer({ PORT: String(port), PUBLIC_URL: publicUrl, PASSWORD_SCRYPT_LN: '14', ...env });
  return Object.assign(s, { issuer: `${publicUrl}/oidc`, apiResource: `${publicUrl}/api/v1` });
}

export function discover(s: { issuer: string }, clientId: string, secret?: string, metadata: Partial<oidc.ClientMetadata> = {}) {
  return oidc.discovery(
    new URL(s.issuer),
    clientId,
    metadata,
    secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** A front end's callback page on a loopback port: where a browser lands with the code. */
export async function startCallbackPage(): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const port = await freePort();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>rp</title><p>callback</p>');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** An authorization-code request with PKCE, state and nonce, as every front end makes one; what to check the answer against. */
export async function codeRequest(config: oidc.Configuration, redirectUri: string, scope: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, verifier, state, nonce };
}

let n = 0;
export const uniq = () => `${Date.now().toString(36)}${(n++).toString(36)}`;

/** An account of a fresh co-op with a password set through an invitation link. */
export async function memberWithPassword(s: TestServer, opts: { coop?: string; password?: string } = {}) {
  const coop = opts.coop ?? (await createCoop(s)).id;
  const email = `member-${uniq()}@example.org`;
  const acc = await s.api('POST', '/api/v1/accounts', { body: { email, name: 'Mira Member', coop } });
  if (acc.status !== 201) throw new Error(`account: ${acc.status} ${acc.text}`);
  const password = opts.password ?? 'correct horse battery staple';
  const { setPassword } = await import('../../server/accounts/credentials.js');
  const { LOCAL_OPERATOR } = await import('../../server/auth/principal.js');
  await setPassword(s.database.db, LOCAL_OPERATOR, acc.json.id, password, { ln: 14, r: 8, p: 1 }, { verified: true });
  return { accountId: acc.json.id as string, email, password, coop };
}

export async function registerClient(s: TestServer, body: Record<string, unknown>) {
  const res = await s.api('POST', '/api/v1/clients', { body });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${res.text}`);
  return res.json as { id: string; clientId: string; clientSecret: string | null; version: number };
}

/** Makes an account a platform admin as bootstrap does: the flag and the root platform_admin grant. */
export async function makePlatformAdmin(s: TestServer, accountId: string): Promise<void> {
  const { sql } = await import('drizzle-orm');
  const { insertRootGrant } = await import('../../server/grants/service.js');
  const { LOCAL_OPERATOR } = await import('../../server/auth/principal.js');
  const { changeFeed } = await import('../../server/cache/change-feed.js');
  await s.database.db.execute(sql`update accounts set platform_admin = true where id = ${accountId}`);
  await s.database.db.transaction((tx) => insertRootGrant(tx, LOCAL_OPERATOR, { accountId, role: 'platform_admin', scope: { type: 'global' }, reason: 'test' }));
  // Written by SQL, not through the API: the database announces it to this process's caches a moment later; say it now.
  changeFeed(s.database.db).bump();
}
