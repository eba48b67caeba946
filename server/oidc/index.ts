// The sign-on service as the server runs it: keys loaded (created on first
// start), the provider built, the API's token verifier, and a timer owned by
// the server lifecycle that picks up rotated keys (`meetplane keys rotate`).
// Expired artifacts are deleted by a periodic job (./sweep.ts).
import type { PeerTrust } from './federated-clients.js';
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ensureKeys, keysFingerprint, loadKeys, type ProviderKeys } from './keys.js';
import { apiResourceOf, buildProvider, issuerOf, verifyGraceSeconds } from './provider.js';
import { AccessTokenVerifier } from './verify.js';
import { sweepSignOn } from './sweep.js';

export const KEY_RELOAD_INTERVAL_MS = 60_000;

export interface SsoDeps {
  db: Db;
  box: SecretBox;
  config: Config;
  log: Logger;
}

export class Sso {
  #provider: Provider;
  #handler: ReturnType<Provider['callback']>;
  #keys: ProviderKeys;
  readonly verifier: AccessTokenVerifier;
  #timers: NodeJS.Timeout[] = [];
  #busy: Promise<unknown> = Promise.resolve();
  /** Trust in other meetplane instances; the federation layer fills it in (server/app.ts). */
  readonly peers: PeerTrust = {};

  private constructor(
    readonly deps: SsoDeps,
    keys: ProviderKeys,
  ) {
    this.#keys = keys;
    this.#provider = buildProvider({ ...deps, keys, peers: this.peers });
    this.#handler = this.#provider.callback();
    this.verifier = new AccessTokenVerifier(deps.db, issuerOf(deps.config), apiResourceOf(deps.config), keys.publicJwks as never);
  }

  static async start(deps: SsoDeps, opts: { timers?: boolean } = {}): Promise<Sso> {
    await ensureKeys(deps.db, deps.box);
    const sso = new Sso(deps, await loadKeys(deps.db, deps.box, ...graces(deps.config)));
    if (opts.timers !== false) {
      sso.#timers.push(setInterval(() => void sso.#serial(() => sso.reloadKeys()), KEY_RELOAD_INTERVAL_MS).unref());
    }
    return sso;
  }

  get provider(): Provider {
    return this.#provider;
  }

  /** The provider's Node request handler (built once per provider). */
  get handler(): ReturnType<Provider['callback']> {
    return this.#handler;
  }

  /** The public sign-on keys the provider publishes now (its jwks_uri answers the same). */
  get publicJwks(): { keys: unknown[] } {
    return this.#keys.publicJwks;
  }

  get issuer(): string {
    return issuerOf(this.deps.config);
  }

  /** Rebuilds the provider when keys were added or retired since the last load. */
  async reloadKeys(): Promise<boolean> {
    const { db, box, config, log } = this.deps;
    if ((await keysFingerprint(db, ...graces(config))) === this.#keys.fingerprint) return false;
    const keys = await loadKeys(db, box, ...graces(config));
    this.#keys = keys;
    this.#provider = buildProvider({ ...this.deps, keys, peers: this.peers });
    this.#handler = this.#provider.callback();
    this.verifier.setKeys(keys.publicJwks as never);
    log.info({ kids: keys.publicJwks.keys.map((k) => k.kid) }, 'sign-on keys reloaded');
    return true;
  }

  /** One cleanup now (the periodic job does this every ten minutes). */
  async sweep(): Promise<void> {
    const removed = await sweepSignOn(this.deps.db, this.deps.config.sso.loginLockoutSeconds);
    if (removed) this.deps.log.debug({ removed }, 'expired sign-on artifacts deleted');
  }

  /**
   * Keys for meetplane's own page sessions (server/web/session.ts), newest first:
   * derived from the provider's cookie keys, so they are sealed under the master
   * key and rotate with `meetplane keys rotate`.
   */
  webSessionKeys(): Array<{ kid: string; key: Uint8Array }> {
    return this.#keys.cookieKeys.map((k) => {
      const key = new Uint8Array(hkdfSync('sha256', k, 'meetplane', 'web-session-v1', 32));
      return { kid: createHash('sha256').update(key).digest('base64url').slice(0, 12), key };
    });
  }

  /** A per-interaction CSRF token: HMAC of the interaction id under the newest cookie key. */
  csrfFor(uid: string): string {
    return createHmac('sha256', this.#keys.cookieKeys[0]!).update('csrf:' + uid).digest('base64url');
  }

  checkCsrf(uid: string, offered: unknown): boolean {
    if (typeof offered !== 'string') return false;
    return this.#keys.cookieKeys.some((k) => {
      const expected = Buffer.from(createHmac('sha256', k).update('csrf:' + uid).digest('base64url'));
      const got = Buffer.from(offered);
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
  }

  async stop(): Promise<void> {
    this.#timers.forEach(clearInterval);
    this.#timers = [];
    await this.#busy;
  }

  #serial(run: () => Promise<unknown>): Promise<unknown> {
    this.#busy = this.#busy.then(run).catch((err) => this.deps.log.warn({ err }, 'sign-on maintenance failed'));
    return this.#busy;
  }
}

function graces(config: Config): [number, number] {
  return [verifyGraceSeconds(config) * 1000, config.sso.sessionTtl * 1000];
}
