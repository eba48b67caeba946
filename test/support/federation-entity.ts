// A federation entity on a loopback port for the resolver's tests: its entity configuration (signed
// with its key, or another a test swaps in), a fetch endpoint issuing statements about the entities
// it enrolled, and a trust-mark status endpoint that counts its questions.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { ENTITY_STATEMENT_CONTENT_TYPE, publicJwks, signStatement, type StatementClaims } from '../../federation/entity-statement.js';
import { signStatusResponse, type TrustMarkStatus } from '../../federation/trust-mark.js';

export async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
}

export class LoopbackEntity {
  server!: Server;
  id = '';
  key!: JWK;
  /** Signs its configuration with this key (defaults to `key`): a test swaps it for a stranger's. */
  configKey?: JWK;
  /** Further keys its configuration publishes. */
  extraKeys: JWK[] = [];
  hints: string[] = [];
  metadata: Record<string, Record<string, unknown>> = {};
  /** Further claims of its configuration (trust_mark_issuers, trust_marks, ...). */
  extra: Record<string, unknown> = {};
  subordinates = new Map<string, { jwks: { keys: JWK[] }; extra?: Partial<StatementClaims>; lifetime?: number }>();
  /** What its status endpoint answers for any mark (500: it fails). */
  status: TrustMarkStatus | 500 = 'active';
  /** How many status questions it was asked. */
  asked = 0;

  async start(name: string): Promise<this> {
    this.key = await newKey(`${name}-1`);
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => void this.#answer(req.url ?? '/', body).then(([status, out]) => res.writeHead(status, { 'content-type': ENTITY_STATEMENT_CONTENT_TYPE }).end(out)));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.id = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  enrol(sub: LoopbackEntity, extra?: Partial<StatementClaims>, lifetime?: number): void {
    this.subordinates.set(sub.id, { jwks: publicJwks([sub.key]), extra, lifetime });
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  async #answer(path: string, body: string): Promise<[number, string]> {
    const url = new URL(path, this.id);
    if (url.pathname === '/.well-known/openid-federation') {
      const claims = {
        iss: this.id,
        sub: this.id,
        jwks: publicJwks([this.key, ...this.extraKeys]),
        authority_hints: this.hints.length ? this.hints : undefined,
        metadata: {
          ...this.metadata,
          federation_entity: {
            ...(this.metadata.federation_entity ?? {}),
            federation_fetch_endpoint: `${this.id}/federation/fetch`,
            federation_trust_mark_status_endpoint: `${this.id}/federation/trust_mark_status`,
          },
        },
        ...this.extra,
      } as StatementClaims;
      return [200, await signStatement(claims, this.configKey ?? this.key, 3600)];
    }
    if (url.pathname === '/federation/fetch') {
      const sub = url.searchParams.get('sub') ?? '';
      const s = this.subordinates.get(sub);
      if (!s) return [404, ''];
      return [200, await signStatement({ iss: this.id, sub, jwks: s.jwks, ...s.extra }, this.key, s.lifetime ?? 3600)];
    }
    if (url.pathname === '/federation/trust_mark_status') {
      this.asked++;
      if (this.status === 500) return [500, ''];
      const mark = new URLSearchParams(body).get('trust_mark') ?? '';
      return [200, await signStatusResponse(this.id, mark, this.status, this.key)];
    }
    return [404, ''];
  }
}
