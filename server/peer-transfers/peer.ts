// The other instance of a transfer, as this one trusts it: resolved through a trust anchor or a pin
// (server/federation), its federation keys, and what its `meetplane` metadata states about the
// co-ops it hosts (where they are, their data-protection standing, their clusters' countries) and
// where it takes transfer messages. The data-protection rules decide on these stated facts.
import { z } from 'zod';
import type { Db } from '../db/index.js';
import type { Jwks } from '../../federation/entity-statement.js';
import { TrustChainError, type TrustChainResolver } from '../../federation/trust-chain.js';
import { resolveEntity, resolvedKeys, resolvedMetadata } from '../federation/service.js';
import { ProblemError } from '../http/problem.js';

const Country = z.string().regex(/^[A-Z]{2}$/);
const peerMetadataSchema = z.looseObject({
  transfer_endpoint: z.string().url(),
  coops: z.array(
    z.looseObject({
      slug: z.string(),
      name: z.string(),
      jurisdiction: Country,
      legal_regime: z.string(),
      dpf_listed: z.boolean().default(false),
      pipeda_subject: z.boolean().default(false),
      contact_email: z.string().email().optional(),
      clusters: z.array(z.looseObject({ slug: z.string(), country: Country })).default([]),
    }),
  ),
});
export type PeerMetadata = z.infer<typeof peerMetadataSchema>;
export type PeerCoop = PeerMetadata['coops'][number];

export interface Peer {
  entityId: string;
  keys: Jwks;
  meetplane: PeerMetadata;
}

/** Refusals naming the peer and why; `status` 403 for trust, 422 for what the peer states. */
export const peerProblem = (status: 403 | 422, detail: string) => new ProblemError(status, status === 403 ? 'peer-not-trusted' : 'peer-metadata', status === 403 ? 'Peer not trusted' : 'Peer metadata', detail);

export async function resolvePeer(db: Db, resolver: TrustChainResolver, entityId: string): Promise<Peer> {
  let resolution;
  try {
    resolution = await resolveEntity(db, resolver, entityId);
  } catch (err) {
    if (err instanceof TrustChainError) throw peerProblem(403, `${entityId} is not trusted by this instance: ${err.message}`);
    throw err;
  }
  const parsed = peerMetadataSchema.safeParse(resolvedMetadata(resolution).meetplane);
  if (!parsed.success) throw peerProblem(422, `${entityId} does not state what a transfer needs (meetplane metadata: ${parsed.error.issues[0]?.path.join('.') || 'missing'})`);
  return { entityId: resolution.kind === 'chain' ? resolution.chain.subject : resolution.subject, keys: resolvedKeys(resolution), meetplane: parsed.data };
}
