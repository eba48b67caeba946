// Keeps the trust marks this instance holds in line with what its anchors' issuers grant: fetched
// at start and every TRUST_MARK_SYNC_MS, so a grant reaches the entity configuration without an
// admin of this instance acting, and a revoked mark stops being published. Resolvers do not wait
// for this: they ask the issuer's status endpoint on every resolve.
import type { TrustChainResolver } from '../../federation/trust-chain.js';
import type { Outbound } from '../net/outbound.js';
import { FEDERATION_ACTOR } from './peer-witnessing.js';
import { refreshHeldTrustMarks, type FederationDeps } from './trust-marks.js';

export const TRUST_MARK_SYNC_MS = 10 * 60_000;

export class TrustMarkSync {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: FederationDeps,
    private readonly resolver: TrustChainResolver,
    private readonly outbound: Pick<Outbound, 'fetch'>,
    private readonly log: { warn(obj: Record<string, unknown>, msg: string): void },
    private readonly intervalMs = TRUST_MARK_SYNC_MS,
  ) {}

  start(): void {
    void this.run();
    this.#timer = setInterval(() => void this.run(), this.intervalMs);
    this.#timer.unref();
  }

  run(): Promise<unknown> {
    this.#running = this.#running.then(() =>
      refreshHeldTrustMarks(this.deps, this.resolver, this.outbound, FEDERATION_ACTOR).then(
        // What it held from an issuer that did not answer is kept; said, so an operator can look.
        (r) => r.failures.forEach((f) => this.log.warn({ issuer: f.issuer, trustMarkType: f.trustMarkType, reason: f.reason }, 'could not fetch a trust mark')),
        (err) => this.log.warn({ err }, 'fetching the trust marks this instance holds failed'),
      ),
    );
    return this.#running;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
