// The target's client for a source's package: where it is served, and a capability for this
// instance's federation key with a fresh DPoP proof on each request (files-routes.ts checks both).
import { federationSigningKey } from '../federation/keys.js';
import { createDpopProof } from '../../federation/dpop.js';
import type { PeerTransferDeps } from './deps.js';

/** Where the source serves a transfer's package: under its own entity id, nowhere else. */
export const packageUrls = (source: string, transferId: string) => {
  const base = `${source}/federation/transfers/${transferId}`;
  return { base, capability: `${base}/capability`, manifest: `${base}/manifest`, tenancy: `${base}/tenancy`, files: `${base}/files`, file: (path: string) => `${base}/files/${path.split('/').map(encodeURIComponent).join('/')}` };
};

/** A failure of the pull that trying again will not mend (the source sent what the manifest does not say). */
export class PackageMismatch extends Error {}

/** A capability for this instance's federation key, renewed shortly before it expires. */
export class CapabilityHolder {
  #token = '';
  #until = 0;
  constructor(
    private readonly d: PeerTransferDeps,
    private readonly url: string,
  ) {}
  async token(): Promise<string> {
    if (Date.now() < this.#until - 30_000) return this.#token;
    const key = await federationSigningKey(this.d.db, this.d.box);
    const res = await this.d.outbound.fetch(this.url, { method: 'POST', headers: { dpop: await createDpopProof(key, { htm: 'POST', htu: this.url }), accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(15_000) });
    const body = (await res.json().catch(() => ({}))) as { capability?: string; expires_in?: number; detail?: string };
    if (!res.ok || !body.capability) throw new Error(`the source refused a capability (${res.status}${body.detail ? `: ${body.detail}` : ''})`);
    this.#token = body.capability;
    this.#until = Date.now() + (body.expires_in ?? 60) * 1000;
    return this.#token;
  }
  /** A GET of `url` with the capability and a fresh proof for it. */
  get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send('GET', url, headers);
  }
  /** A POST of JSON to `url` with the capability and a fresh proof for it. */
  post(url: string, body: unknown): Promise<Response> {
    return this.#send('POST', url, { 'content-type': 'application/json' }, JSON.stringify(body));
  }
  async #send(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const token = await this.token();
    const key = await federationSigningKey(this.d.db, this.d.box);
    return this.d.outbound.fetch(url, { method, body, headers: { ...headers, authorization: `DPoP ${token}`, dpop: await createDpopProof(key, { htm: method, htu: url, accessToken: token }) }, redirect: 'error' });
  }
}

