// A resolution with its trust marks as they stand now (expiry and each issuer's status endpoint
// asked), and the fact the data-protection rules can use: which mark types a peer holds.
// Separate from resolveEntity, which sign-on calls on every log-in and which needs no marks.
import type { Db } from '../db/index.js';
import type { TrustChainResolver } from '../../federation/trust-chain.js';
import type { TrustMarkReport } from '../../federation/trust-mark.js';
import { resolveEntity, type Resolution } from './service.js';

/** How long the public resolve endpoint reuses an issuer's status answer. */
export const PUBLIC_STATUS_MAX_AGE_MS = 30_000;

export type CheckedResolution = Resolution & { trustMarks: TrustMarkReport };

/**
 * `statusMaxAgeMs` reuses an issuer's status answer that long (the public resolve endpoint, which
 * anyone may call); by default every mark's status is asked now.
 */
export async function resolveWithTrustMarks(db: Db, resolver: TrustChainResolver, sub: string, trustAnchor?: string, opts: { statusMaxAgeMs?: number } = {}): Promise<CheckedResolution> {
  const r = await resolveEntity(db, resolver, sub, trustAnchor);
  // A pinned peer has no anchor to say whose marks count: none are accepted from it.
  if (r.kind === 'pinned') return { ...r, trustMarks: { valid: [], dropped: [] } };
  return { ...r, trustMarks: await resolver.checkTrustMarks(r.chain, opts) };
}

/**
 * The trust mark types a resolved entity holds, verified (issuer accepted by the anchor for the
 * type, signature, subject, expiry, status): a fact for the data-protection rules, e.g. a type
 * meaning "hosts in the EEA".
 */
export function trustMarksOf(resolution: CheckedResolution): string[] {
  return [...new Set(resolution.trustMarks.valid.map((m) => m.trust_mark_type))].sort();
}

/** How the API and CLI show marks: what was accepted, and what was dropped and why. */
export function trustMarksView(report: TrustMarkReport) {
  return {
    valid: report.valid.map((m) => ({
      trustMarkType: m.trust_mark_type,
      issuer: m.iss,
      issuedAt: new Date(m.iat * 1000).toISOString(),
      expiresAt: m.exp !== undefined ? new Date(m.exp * 1000).toISOString() : null,
      ...(m.ref ? { ref: m.ref } : {}),
    })),
    dropped: report.dropped.map((m) => ({ trustMarkType: m.trust_mark_type, issuer: m.iss ?? null, reason: m.reason })),
  };
}
