// The per-tenancy BBB API gateway. A front end signs its calls with the tenancy's
// own secret; the gateway checks that checksum, applies the tenancy's rules (its
// meta tag, its meetings and recordings only, no new meeting while frozen),
// re-signs for the tenancy's current cluster and passes the cluster's answer back.
// A tenancy that moves to another cluster keeps its gateway URL and secret; its
// meetings still running on the former cluster stay reachable there until they end,
// and its recordings are listed from every cluster that holds them (placement.ts).
// Every call to a cluster goes through the instance's outbound policy. An unknown
// tenancy answers exactly like a known one with a wrong checksum: the root and
// unsupported calls are answered before the tenancy is looked up. A tenancy moved to
// another meetplane instance has its calls, checked as any, passed on to the target's
// gateway until its forward ends (server/forwarding), then answers where it went.
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import { checksum, CHECKSUM_ALGORITHMS, detectAlgorithm, splitChecksum, verifyChecksum, type ChecksumAlgorithm } from '../bbb/checksum.js';
import { buildResponse, children, entries, failedResponse, type XmlInput, type XmlObject } from '../bbb/xml.js';
import { BbbClient, BbbError, BbbTransportError } from '../bbb/client.js';
import { claimRoom, noteMeetingEnded, TENANCY_META } from '../inventory/service.js';
import { encodeParam, isMeta, joinQuery, param, parseQuery, type QueryPart } from './query.js';
import { TargetResolver, type ClusterTarget, type ForwardTarget, type GatewayTarget } from './target.js';
import { Placement } from './placement.js';
import { isLowerHex, mergeMeetings, mergeRecordings, readAnswer, withoutParams } from './merge.js';
import { isCleanText } from '../http/text.js';
import { OutboundRefused, type Outbound, type OutboundAnswer } from '../net/outbound.js';
import { xmlReply, type Reply } from './reply.js';

/** The calls the gateway forwards; anything else answers unsupportedRequest, as Scalelite does. */
export const SUPPORTED_CALLS = new Set([
  'create',
  'join',
  'end',
  'isMeetingRunning',
  'getMeetingInfo',
  'getMeetings',
  'getRecordings',
  'publishRecordings',
  'updateRecordings',
  'deleteRecordings',
]);

const RECORDING_READY_META = 'bbb-recording-ready-url';
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const UPSTREAM_TIMEOUT_MS = 30_000;
/** What a cluster answers about a meeting it does not have (getMeetingInfo and end; join). */
const MEETING_GONE = new Set(['notFound', 'invalidMeetingIdentifier']);

type UpstreamInit = { method?: string; body?: string; headers?: Record<string, string> };

export interface GatewayRequest {
  /** tenancy slug or id, from the host name or the /t/<tenancy> prefix */
  tenancyRef: string | undefined;
  /** '' for the API root */
  call: string;
  /** raw query string as received, without '?' */
  rawQuery: string;
  method: string;
  contentType: string | undefined;
  body: () => Promise<ArrayBuffer>;
}

/** An XML answer as an HTTP response (the body limit's refusal, before the gateway is reached). */
export const xmlResponse = (body: string, status = 200) => {
  const reply = xmlReply(body, status);
  return new Response(reply.body, { status, headers: reply.headers });
};
const failed = (key: string, message: string) => xmlReply(failedResponse(key, message));
/** The cluster's headers the front end gets (join's redirect among them). */
const PASSED_HEADERS = ['content-type', 'location', 'cache-control'];

/** The API root: meetplane's own answer, as Scalelite gives its own (never a cluster's body). */
export const ROOT_RESPONSE = buildResponse({ returncode: 'SUCCESS', version: '2.0', apiVersion: '2.0' });

export class Gateway {
  readonly #targets: TargetResolver;
  readonly #placement: Placement;

  constructor(
    private readonly deps: { db: Db; box: SecretBox; log: Logger; publicUrl: string; outbound: Outbound; cacheMaxAgeMs: number },
  ) {
    this.#targets = new TargetResolver(deps.db, deps.box, {
      maxAgeMs: deps.cacheMaxAgeMs,
      onListenError: (err) => deps.log.warn({ error: (err as Error)?.name }, 'change notices unavailable: gateway targets are read on every call'),
    });
    this.#placement = new Placement(deps.db, this.#targets, { maxAgeMs: deps.cacheMaxAgeMs });
  }

  resolve(ref: string): Promise<GatewayTarget | undefined> {
    return this.#targets.resolve(ref);
  }

  async handle(req: GatewayRequest): Promise<Reply> {
    // The same for every tenancy, known or not.
    if (req.call === '') return xmlReply(ROOT_RESPONSE);
    if (!SUPPORTED_CALLS.has(req.call)) return failed('unsupportedRequest', 'This request is not supported.');
    const target = req.tenancyRef ? await this.#targets.resolve(req.tenancyRef) : undefined;
    // An unknown tenancy looks like a wrong secret: tenancy names cannot be probed.
    if (!target) return failed('checksumError', 'Checksums do not match');
    // Lower-case hex only, as front ends write it and Scalelite compares it (see isLowerHex).
    const sum = splitChecksum(req.rawQuery)?.checksum ?? '';
    if (!isLowerHex(sum) || !verifyChecksum(req.call, req.rawQuery, target.tenancy.secret, CHECKSUM_ALGORITHMS)) {
      return failed('checksumError', 'Checksums do not match');
    }
    // NUL cannot be stored and control characters only forge what others read: refused like bbb-web refuses bad parameters.
    if (parseQuery(req.rawQuery).some((p) => !isCleanText(p.key) || !isCleanText(p.value))) {
      return failed('validationError', 'Parameters must not contain control characters');
    }
    if (target.tenancy.state === 'archived') {
      return failed('tenancyArchived', 'This tenancy is archived: its meetings and recordings are no longer served.');
    }
    let body: string | undefined;
    if (req.method === 'POST') {
      const type = (req.contentType ?? '').split(';')[0]!.trim().toLowerCase();
      if (req.call !== 'create' || !['application/xml', 'text/xml'].includes(type)) {
        return failed('unsupportedContentType', 'POST request Content-Type is missing or unsupported');
      }
      const bytes = await req.body();
      if (bytes.byteLength > MAX_BODY_BYTES) return failed('invalidRequestBody', 'The request body is too large');
      body = new TextDecoder().decode(bytes);
    }
    if (target.tenancy.state === 'moved') {
      // Verified above, so the checksum is one of the accepted algorithms' lengths.
      return this.#moved(target, req.call, splitChecksum(req.rawQuery)!.signed, detectAlgorithm(sum)!, body, req.contentType);
    }
    // The signed part, without any attempt of the client to set or change our tag.
    const parts = parseQuery(splitChecksum(req.rawQuery)!.signed).filter((p) => !isMeta(p, TENANCY_META));
    switch (req.call) {
      case 'create':
        return this.#create(target, parts, body);
      case 'join':
      case 'end':
      case 'getMeetingInfo':
      case 'isMeetingRunning':
        return this.#meetingCall(target, req.call, parts);
      case 'getMeetings':
        return this.#getMeetings(target, parts);
      case 'getRecordings':
        return this.#getRecordings(target, parts);
      default:
        return this.#recordingChange(target, req.call, parts);
    }
  }

  async #create(target: GatewayTarget, parts: QueryPart[], body: string | undefined): Promise<Reply> {
    if (target.tenancy.state === 'frozen') {
      return failed(
        'tenancyFrozen',
        'This tenancy is frozen while it moves to another hosting co-operative: no new meeting can be started now. Meetings already running go on; try again once the move is complete.',
      );
    }
    const meetingId = (param(parts, 'meetingID') ?? '').trim();
    // The front end's callback URL never reaches the cluster (it would call it from inside the hosting network).
    let forwarded: Array<QueryPart | string> = parts.filter((p) => !isMeta(p, RECORDING_READY_META));
    let cluster = target.cluster;
    if (meetingId !== '') {
      // Still running on a former cluster: create there (BBB's create of a running meeting answers that meeting).
      const place = await this.#placement.ofMeeting(target, meetingId);
      if (place?.moved && (await this.#stillRunsOn(target, place.cluster, meetingId))) cluster = place.cluster;
      const readyUrl = parts.find((p) => isMeta(p, RECORDING_READY_META))?.value;
      const callbackUrl = readyUrl ? this.#acceptedCallback(target, readyUrl) : null;
      const room = await claimRoom(this.deps.db, {
        tenancyId: target.tenancy.id,
        meetingId,
        name: param(parts, 'name') ?? '',
        clusterId: cluster.id,
        recordingReadyUrl: callbackUrl,
      });
      this.#placement.changed();
      if (!room) return failed('idNotUnique', 'A meeting already exists with that meeting ID.  Please use a different meeting ID.');
      // The cluster calls meetplane when a recording is ready; meetplane calls the front end, re-signed.
      if (callbackUrl) {
        forwarded = [
          ...forwarded,
          encodeParam(`meta_${RECORDING_READY_META}`, `${this.deps.publicUrl}/t/${target.tenancy.id}/bigbluebutton/recording-ready`),
        ];
      }
    }
    return this.#forwardTo(cluster, 'create', [...forwarded, encodeParam(`meta_${TENANCY_META}`, target.tenancy.id)], body);
  }

  /**
   * Whether the meeting still exists on the former cluster it was created on. A cluster
   * that no longer knows it, or does not answer, has lost it (Scalelite forgets the
   * meetings of a server that goes offline): the next create starts it on the current cluster.
   */
  async #stillRunsOn(target: GatewayTarget, cluster: ClusterTarget, meetingId: string): Promise<boolean> {
    const client = new BbbClient({ apiUrl: cluster.apiUrl, secret: cluster.secret, algorithm: cluster.algorithm, retries: 0, timeoutMs: 10_000, fetch: this.deps.outbound.fetch });
    try {
      await client.getMeetingInfo(meetingId);
      return true;
    } catch (err) {
      if (!(err instanceof BbbError) && !(err instanceof BbbTransportError)) throw err;
      if (!(err instanceof BbbError && MEETING_GONE.has(err.messageKey))) {
        this.deps.log.warn({ tenancy: target.tenancy.id, cluster: cluster.id, error: err.name }, 'former cluster did not answer about a meeting: it starts on the current cluster');
      }
      await this.#ended(target, meetingId, cluster);
      return false;
    }
  }

  /**
   * A front end's recording-ready URL, when the outbound policy allows calling it
   * (http(s), no credentials, not a refused address). Otherwise the meeting is
   * still created, without the callback, and the operator sees why in the log:
   * as on BBB, where an unreachable callback is lost, and front ends also poll
   * getRecordings. Names are checked again, on their addresses, when called.
   */
  #acceptedCallback(target: GatewayTarget, readyUrl: string): string | null {
    try {
      return this.deps.outbound.checkUrl(readyUrl).href;
    } catch (err) {
      if (!(err instanceof OutboundRefused)) throw err;
      this.deps.log.warn({ tenancy: target.tenancy.id, reason: err.message }, 'recording-ready callback URL refused: the meeting is created without it');
      return null;
    }
  }

  /**
   * Calls about one meeting: only the tenancy's own meetings exist for it, and each goes to
   * the cluster the meeting runs on. A former cluster that answers it no longer has the
   * meeting has seen it end: the call goes to the current cluster, and so do later ones.
   */
  async #meetingCall(target: GatewayTarget, call: string, parts: QueryPart[]): Promise<Reply> {
    const meetingId = (param(parts, 'meetingID') ?? '').trim();
    if (meetingId === '') return this.forward(target, call, parts);
    const place = await this.#placement.ofMeeting(target, meetingId);
    if (!place) {
      if (call === 'isMeetingRunning') return xmlReply(buildResponse({ returncode: 'SUCCESS', running: false }));
      if (call === 'join') return failed('invalidMeetingIdentifier', 'The meeting ID that you supplied did not match any existing meetings');
      return failed('notFound', 'We could not find a meeting with that meeting ID');
    }
    const upstream = await this.#forwardTo(place.cluster, call, parts);
    // Not running is the right answer wherever the meeting is; a join redirect is a success.
    if (call === 'isMeetingRunning' || (!place.moved && call !== 'end')) return upstream;
    const answer = readAnswer(upstream);
    if (place.moved && answer.failedKey !== undefined && MEETING_GONE.has(answer.failedKey)) {
      await this.#ended(target, meetingId, place.cluster);
      return this.forward(target, call, parts);
    }
    if (call === 'end' && answer.succeeded) await this.#ended(target, meetingId, place.cluster);
    return answer.response;
  }

  /** The meeting is no longer on `cluster`; this process's next call sees it at once. */
  async #ended(target: GatewayTarget, meetingId: string, cluster: ClusterTarget): Promise<void> {
    await noteMeetingEnded(this.deps.db, target.tenancy.id, meetingId, cluster.id);
    this.#placement.changed();
  }

  /** The tenancy's meetings (by its meta tag) on its cluster, and on former ones where some still run. */
  async #getMeetings(target: GatewayTarget, parts: QueryPart[]): Promise<Reply> {
    const lists = await this.#listsFrom(target, await this.#placement.meetingClusters(target), 'getMeetings', parts);
    if (!Array.isArray(lists)) return lists;
    const own = mergeMeetings(lists);
    if (own.length === 0) {
      return xmlReply(
        buildResponse({ returncode: 'SUCCESS', meetings: '', messageKey: 'noMeetings', message: 'no meetings were found on this server' }),
      );
    }
    return xmlReply(buildResponse({ returncode: 'SUCCESS', meetings: { meeting: own as unknown as XmlInput[] } }));
  }

  /**
   * The tenancy's recordings (by its meta tag). On one cluster the answer is the cluster's own;
   * from several, each is asked for all of them and offset/limit apply to the merged list.
   */
  async #getRecordings(target: GatewayTarget, parts: QueryPart[]): Promise<Reply> {
    const tag = encodeParam(`meta_${TENANCY_META}`, target.tenancy.id);
    const clusters = await this.#placement.recordingClusters(target);
    if (clusters.length === 1) return this.forward(target, 'getRecordings', [...parts, tag]);
    const lists = await this.#listsFrom(target, clusters, 'getRecordings', [...withoutParams(parts, ['offset', 'limit']), tag]);
    if (!Array.isArray(lists)) return lists;
    const page = mergeRecordings(lists, { offset: param(parts, 'offset'), limit: param(parts, 'limit') });
    if (page.length === 0) {
      return xmlReply(
        buildResponse({ returncode: 'SUCCESS', recordings: '', messageKey: 'noRecordings', message: 'There are no recordings for the meeting(s).' }),
      );
    }
    return xmlReply(buildResponse({ returncode: 'SUCCESS', recordings: { recording: page as unknown as XmlInput[] } }));
  }

  /**
   * Each cluster's list of the tenancy's meetings or recordings (by its meta tag, whatever
   * the cluster's filter did). The current cluster's failure is the answer; a former
   * cluster's leaves its part out, so one drained server that died does not hide the rest.
   */
  async #listsFrom(target: GatewayTarget, clusters: readonly ClusterTarget[], call: 'getMeetings' | 'getRecordings', parts: ReadonlyArray<QueryPart | string>): Promise<XmlObject[][] | Reply> {
    const [list, item] = call === 'getMeetings' ? ['meetings', 'meeting'] : ['recordings', 'recording'];
    const lists: XmlObject[][] = [];
    for (const cluster of clusters) {
      const upstream = await this.#forwardTo(cluster, call, parts);
      const answer = readAnswer(upstream);
      if (answer.parsed === undefined || !answer.succeeded) {
        if (cluster === target.cluster) {
          return answer.parsed === undefined && upstream.status === 200 ? failed('serverError', 'The cluster did not answer in BBB format') : answer.response;
        }
        this.deps.log.warn({ tenancy: target.tenancy.id, cluster: cluster.id, call }, 'a former cluster did not answer: its part of the list is left out');
        continue;
      }
      lists.push(children(answer.parsed[list], item).filter((x) => entries(x['metadata'])[TENANCY_META] === target.tenancy.id));
    }
    return lists;
  }

  /**
   * publish/update/deleteRecordings: every named recording must be the tenancy's, and
   * each goes to the cluster that holds it (the current one first, then former ones).
   */
  async #recordingChange(target: GatewayTarget, call: string, parts: QueryPart[]): Promise<Reply> {
    const ids = (param(parts, 'recordID') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (ids.length === 0) return this.forward(target, call, parts);
    const holders = new Map<ClusterTarget, string[]>();
    let missing = ids;
    for (const cluster of await this.#placement.recordingClusters(target)) {
      if (missing.length === 0) break;
      const client = new BbbClient({ apiUrl: cluster.apiUrl, secret: cluster.secret, algorithm: cluster.algorithm, retries: 0, fetch: this.deps.outbound.fetch });
      let own: Set<string>;
      try {
        const found = await client.getRecordings({ recordID: missing, state: 'any', meta: { [TENANCY_META]: target.tenancy.id } });
        own = new Set(found.filter((r) => r.metadata[TENANCY_META] === target.tenancy.id).map((r) => r.recordID));
      } catch (err) {
        if (err instanceof BbbTransportError || err instanceof BbbError) return this.#unavailable(cluster, err);
        throw err;
      }
      const here = missing.filter((id) => own.has(id));
      if (here.length) holders.set(cluster, here);
      missing = missing.filter((id) => !own.has(id));
    }
    if (missing.length > 0) return failed('notFound', 'We could not find recordings');
    // All on one cluster: the call as the front end signed it. Otherwise one call per cluster, each with its ids.
    if (holders.size === 1) return this.#forwardTo([...holders.keys()][0]!, call, parts);
    let last: Reply | undefined;
    for (const [cluster, here] of holders) {
      const answer = readAnswer(await this.#forwardTo(cluster, call, [...withoutParams(parts, ['recordID']), encodeParam('recordID', here.join(','))]));
      if (!answer.succeeded) return answer.response;
      last = answer.response;
    }
    return last!;
  }

  /**
   * A tenancy moved to another instance: the call as the front end signed it (every
   * parameter, in its order and encoding), re-signed with the forward's secret by the
   * caller's algorithm, to the target's gateway; its answer passed back. After the grace
   * period, FAILED tenancyMoved naming the new URL, which the front end's operator reads.
   */
  async #moved(target: GatewayTarget, call: string, signed: string, algorithm: ChecksumAlgorithm, body: string | undefined, contentType: string | undefined): Promise<Reply> {
    const forward = target.forward;
    if (!forward || Date.now() >= forward.until.getTime()) {
      const where = forward ? `its BigBlueButton API is now at ${forward.gatewayUrl}` : 'its new host gives its BigBlueButton API URL';
      return failed('tenancyMoved', `This tenancy has moved to another meetplane instance: ${where}. Point the front end there, with the secret its new host gave.`);
    }
    const sum = checksum(call, signed, forward.secret, algorithm);
    const url = `${forward.gatewayUrl}/${call}?${signed === '' ? '' : `${signed}&`}checksum=${sum}`;
    const init = body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': contentType ?? 'application/xml' } };
    try {
      return { ...(await this.#request(url, init)), forwarded: true };
    } catch (err) {
      this.#forwardUnavailable(target, forward, err);
      return failed('serverUnavailable', "The tenancy moved to another meetplane instance, whose gateway did not answer; try again shortly.");
    }
  }

  #forwardUnavailable(target: GatewayTarget, forward: ForwardTarget, err: unknown): void {
    // The host only: the URL carries the checksum.
    const reason = err instanceof OutboundRefused ? { refused: err.message } : { error: (err as Error)?.name };
    this.deps.log.warn({ tenancy: target.tenancy.id, host: new URL(forward.gatewayUrl).host, ...reason }, 'gateway of the instance the tenancy moved to unreachable');
  }

  /** Signs `parts` for the tenancy's current cluster, sends them, and passes the answer back. */
  forward(target: GatewayTarget, call: string, parts: ReadonlyArray<QueryPart | string>, body?: string): Promise<Reply> {
    return this.#forwardTo(target.cluster, call, parts, body);
  }

  /** Signs `parts` for `cluster`, sends them, and passes the answer back, read whole (BBB answers are XML documents the metrics read). */
  async #forwardTo(cluster: ClusterTarget, call: string, parts: ReadonlyArray<QueryPart | string>, body?: string): Promise<Reply> {
    const query = joinQuery(parts);
    const sum = checksum(call, query, cluster.secret, cluster.algorithm);
    const url = `${cluster.apiUrl}/${call}?${query === '' ? '' : `${query}&`}checksum=${sum}`;
    return this.#send(cluster, url, body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': 'application/xml' } });
  }

  async #send(cluster: ClusterTarget, url: string, init: UpstreamInit): Promise<Reply> {
    try {
      return await this.#request(url, init);
    } catch (err) {
      return this.#unavailable(cluster, err);
    }
  }

  /** One call through the outbound policy, its answer as a Reply; throws when it cannot be made. */
  async #request(url: string, init: UpstreamInit): Promise<Reply> {
    const upstream: OutboundAnswer = await this.deps.outbound.request(url, { ...init, timeoutMs: UPSTREAM_TIMEOUT_MS });
    // join answers a redirect to the client: it goes back to the browser unchanged.
    const headers: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = upstream.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    // BBB answers XML: kept as text, which the metrics and the merges read; anything else as the bytes it was.
    return { status: upstream.status, headers, body: /xml/.test(headers['content-type'] ?? '') ? upstream.body.toString('utf8') : upstream.body };
  }

  #unavailable(cluster: ClusterTarget, err: unknown): Reply {
    // The host only: the URL carries the checksum. A refusal says which address and which setting.
    const cause = err instanceof BbbTransportError && err.cause instanceof OutboundRefused ? err.cause : err;
    const reason = cause instanceof OutboundRefused ? { refused: cause.message } : { error: (err as Error)?.name };
    this.deps.log.warn({ cluster: cluster.id, host: new URL(cluster.apiUrl).host, ...reason }, 'cluster unreachable');
    return failed('serverUnavailable', "The tenancy's BigBlueButton cluster did not answer; try again shortly.");
  }
}
