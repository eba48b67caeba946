// Delivering a signed message to the other instance's transfer endpoint, and retrying with backoff
// while it cannot be reached. A peer's 400, 404, 409 or 422 is its refusal (kept with its words and
// rule ids); a 5xx, a timeout, a refused connection, 401 or 403 (not trusted yet) is "not now".
import { z } from 'zod';
import type { Outbound } from '../net/outbound.js';
import { MESSAGE_CONTENT_TYPE } from '../../federation/transfer-messages.js';
import { failpoint } from '../failpoints.js';
import type { Peer } from './peer.js';
import { peerProblem } from './peer.js';

export type Delivery = { ok: true } | { ok: false; retry: boolean; detail: string; policyIds: string[] };

const PeerProblem = z.looseObject({ detail: z.string().max(2000).optional(), title: z.string().max(200).optional(), policyIds: z.array(z.string().max(100)).max(50).optional() });
const DELIVERY_TIMEOUT_MS = 15_000;
/**
 * Answers that may change by themselves: a timeout, too many requests, and the peer not trusting us or
 * our key yet (it pins us later, or has not resolved our rotated key). Any other 4xx is its refusal.
 */
const RETRY_LATER = new Set([401, 403, 408, 425, 429]);

/** The peer's transfer endpoint, which must be its own (under its entity id), as its witness must. */
export function transferEndpoint(peer: Peer): string {
  const url = peer.meetplane.transfer_endpoint;
  if (!url.startsWith(`${peer.entityId}/`)) throw peerProblem(422, `${peer.entityId} names a transfer endpoint outside itself (${url})`);
  return url;
}

export async function postMessage(outbound: Outbound, peer: Peer, jwt: string): Promise<Delivery> {
  let res: Response;
  try {
    failpoint('peer-transfers.deliver'); // as if the peer could not be reached (throw: mode)
    res = await outbound.fetch(transferEndpoint(peer), {
      method: 'POST',
      body: jwt,
      headers: { 'content-type': MESSAGE_CONTENT_TYPE, accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, retry: true, detail: `${peer.entityId} could not be reached: ${(err as Error).message}`, policyIds: [] };
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return { ok: true };
  let problem: z.infer<typeof PeerProblem> = {};
  try {
    problem = PeerProblem.parse(JSON.parse(text));
  } catch {
    // not a problem document: the status says enough
  }
  const detail = `${peer.entityId} answered ${res.status}${problem.detail ? `: ${problem.detail}` : problem.title ? `: ${problem.title}` : ''}`;
  const retry = res.status >= 500 || RETRY_LATER.has(res.status);
  return { ok: false, retry, detail, policyIds: problem.policyIds ?? [] };
}

/** Seconds to wait before attempt `attempts + 1`: 5 s, doubling, at most 10 minutes. */
export const retryDelayMs = (attempts: number) => Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 600_000);
