// Federation figures: trust chain resolution cold (every statement fetched and verified) and
// cached, against a plain fetch of one entity configuration; and entity statements an anchor
// signs per second, against plain ES256 JWTs. Loopback servers in this process play a trust
// anchor, an intermediate and a leaf, so the figure is meetplane's work plus loopback HTTP.
// Usage: node dist/bench/federation.js [--quick]
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Outbound } from '../server/net/outbound.js';
import { ENTITY_STATEMENT_CONTENT_TYPE, publicJwks, signStatement, type StatementClaims } from '../federation/entity-statement.js';
import { TrustChainResolver } from '../federation/trust-chain.js';
import { figure, measureSeconds } from './support.js';

const BENCH = 'federation';

async function key(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
}

interface Node {
  id: string;
  key: JWK;
  server: Server;
  hints: string[];
  subs: Map<string, JWK>;
}

async function node(name: string): Promise<Node> {
  const n: Node = { id: '', key: await key(name), server: createServer(), hints: [], subs: new Map() };
  n.server.on('request', (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', n.id);
      let body: string | undefined;
      if (url.pathname === '/.well-known/openid-federation') {
        const claims: StatementClaims = {
          iss: n.id,
          sub: n.id,
          jwks: publicJwks([n.key]),
          ...(n.hints.length ? { authority_hints: n.hints } : {}),
          metadata: {
            federation_entity: { federation_fetch_endpoint: `${n.id}/federation/fetch` },
            openid_provider: { issuer: `${n.id}/oidc`, id_token_signing_alg_values_supported: ['ES256', 'RS256'] },
          },
        };
        body = await signStatement(claims, n.key, 3600);
      } else if (url.pathname === '/federation/fetch') {
        const sub = url.searchParams.get('sub') ?? '';
        const k = n.subs.get(sub);
        if (k)
          body = await signStatement(
            { iss: n.id, sub, jwks: publicJwks([k]), metadata_policy: { openid_provider: { id_token_signing_alg_values_supported: { subset_of: ['ES256', 'EdDSA'] } } } },
            n.key,
            3600,
          );
      }
      res.writeHead(body ? 200 : 404, { 'content-type': ENTITY_STATEMENT_CONTENT_TYPE }).end(body ?? '');
    })();
  });
  await new Promise<void>((r) => n.server.listen(0, '127.0.0.1', r));
  n.id = `http://127.0.0.1:${(n.server.address() as AddressInfo).port}`;
  return n;
}

/** Runs `op` repeatedly for `seconds`; returns operations per second. */
async function rate(seconds: number, op: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await op();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const [ta, ia, leaf] = [await node('ta'), await node('ia'), await node('leaf')];
  leaf.hints = [ia.id];
  ia.hints = [ta.id];
  ta.subs.set(ia.id, ia.key);
  ia.subs.set(leaf.id, leaf.key);
  const anchor = { entityId: ta.id, jwks: publicJwks([ta.key]) };
  const outbound = new Outbound({ allow: ['127.0.0.0/8'] });
  const seconds = measureSeconds(10);
  const half = Math.max(1, seconds / 2);

  // Baseline for resolution: one plain fetch of an entity configuration (a cold chain makes five requests and verifies five statements).
  const plain = await rate(half, async () => (await outbound.fetch(`${leaf.id}/.well-known/openid-federation`)).text());
  const cold = await rate(half, () => new TrustChainResolver(outbound).resolve(leaf.id, anchor));
  figure(BENCH, 'chain resolution, cold (leaf, intermediate, anchor)', 'memory', 1000 / cold, 'ms', 1000 / plain);
  const cached = new TrustChainResolver(outbound);
  await cached.resolve(leaf.id, anchor);
  const warm = await rate(half, () => cached.resolve(leaf.id, anchor));
  figure(BENCH, 'chain resolution, cached', 'memory', 1e6 / warm, 'µs', 1e6 / plain);

  // Statements an anchor signs per second, against bare ES256 JWTs of the same key.
  const claims: StatementClaims = { iss: ta.id, sub: leaf.id, jwks: publicJwks([leaf.key]) };
  const bareKey = await importJWK(ta.key, 'ES256');
  const bare = await rate(half, () => new SignJWT({ iss: ta.id, sub: leaf.id }).setProtectedHeader({ alg: 'ES256' }).sign(bareKey));
  const statements = await rate(half, () => signStatement(claims, ta.key, 3600));
  figure(BENCH, 'subordinate statements signed', 'memory', statements, 'statements/s', bare);

  for (const n of [ta, ia, leaf]) n.server.close();
}

await main();
