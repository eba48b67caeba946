// Recording-ready callbacks. A front end asks for one with meta_bbb-recording-ready-url
// on create; the gateway points the cluster at meetplane instead, and here passes the
// call on: BBB's POST carries `signed_parameters`, an HS256 JWT made with the cluster's
// secret; the front end gets the same claims signed with the tenancy's secret, which
// is the only secret it knows. The call to the front end goes through the
// outbound policy. An unknown tenancy, and one moved to another instance, answer
// exactly what a known one answers to a signature it cannot verify, so tenancy
// names cannot be probed here either.
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import { openClusterSecret } from '../clusters/service.js';
import { ownedRoom } from '../inventory/service.js';
import { enqueue } from '../jobs/queue.js';
import type { GatewayTarget } from './target.js';
import { OutboundRefused, type Outbound } from '../net/outbound.js';

export type CallbackOutcome =
  | { status: 200; delivered: true }
  | { status: 400 | 401 | 404; error: string }
  | { status: 502; error: string };

const key = (secret: string) => new TextEncoder().encode(secret);
const UNVERIFIED: CallbackOutcome = { status: 401, error: 'signed_parameters is not signed by the cluster' };

/** `target` is undefined for an unknown tenancy. */
export async function relayRecordingReady(
  deps: { db: Db; box: SecretBox; log: Logger; outbound: Outbound },
  target: GatewayTarget | undefined,
  signedParameters: string | undefined,
): Promise<CallbackOutcome> {
  if (!signedParameters) return { status: 400, error: 'signed_parameters is missing' };
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(signedParameters);
  } catch {
    return { status: 400, error: 'signed_parameters is not a JWT' };
  }
  const meetingId = typeof claims['meeting_id'] === 'string' ? claims['meeting_id'] : undefined;
  const recordId = typeof claims['record_id'] === 'string' ? claims['record_id'] : undefined;
  if (!meetingId || !recordId) return { status: 400, error: 'meeting_id and record_id are required' };
  // A tenancy moved to another instance is no longer served here: a recording made on
  // this side after the switch is not in what moved, so its front end is not told of it.
  if (!target || target.tenancy.state === 'moved') return UNVERIFIED;
  const room = await ownedRoom(deps.db, target.tenancy.id, meetingId);
  // Signed by the cluster the meeting ran on (it may have moved since), or the current one;
  // the signature is checked before the meeting's existence is told.
  const clusterIds = [...new Set([room?.clusterId ?? null, target.cluster.id].filter((id): id is string => id !== null))];
  let verified = false;
  for (const clusterId of clusterIds) {
    const secret = clusterId === target.cluster.id ? target.cluster.secret : await openClusterSecret(deps.db, deps.box, clusterId).catch(() => undefined);
    if (secret === undefined) continue;
    try {
      await jwtVerify(signedParameters, key(secret), { algorithms: ['HS256'] });
      verified = true;
      break;
    } catch {
      // try the next cluster
    }
  }
  if (!verified) return UNVERIFIED;
  if (!room) return { status: 404, error: 'no such meeting for this tenancy' };

  // The inventory learns about the new recording soon, once per recording.
  await enqueue(deps.db, { kind: 'inventory.refresh', key: `inventory.refresh:${target.tenancy.id}:${recordId}`, payload: { tenancyId: target.tenancy.id } });

  if (!room.recordingReadyUrl) return { status: 404, error: 'the front end asked for no recording-ready callback' };
  const resigned = await new SignJWT({ meeting_id: meetingId, record_id: recordId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(key(target.tenancy.secret));
  try {
    const res = await deps.outbound.fetch(room.recordingReadyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ signed_parameters: resigned }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    if (res.status < 200 || res.status >= 300) return { status: 502, error: `the front end answered ${res.status}` };
  } catch (err) {
    const reason = err instanceof OutboundRefused ? { refused: err.message } : {};
    deps.log.warn({ tenancy: target.tenancy.id, host: new URL(room.recordingReadyUrl).host, ...reason }, 'recording-ready callback not delivered');
    return { status: 502, error: 'the front end did not answer' };
  }
  return { status: 200, delivered: true };
}
