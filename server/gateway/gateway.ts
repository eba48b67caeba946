// The per-tenancy BBB API gateway. A front end signs its calls with the tenancy's
// own secret; the gateway checks that checksum, applies the tenancy's rules (its
// meta tag, its meetings and recordings only, no new meeting while frozen),
// re-signs for the tenancy's current cluster and streams the cluster's answer back.
// A tenancy that moves to another cluster keeps its gateway URL and secret.
// Every call to a cluster goes through the instance's outbound policy. An unknown
// tenancy answers exactly like a known one with a wrong checksum: the root and
// unsupported calls are answered before the tenancy is looked up.
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Logger } from '../logger.js';
import { checksum, CHECKSUM_ALGORITHMS, splitChecksum, verifyChecksum } from '../bbb/checksum.js';
import { buildResponse, children, entries, failedResponse, parseResponse, text, XmlError, type XmlInput } from '../bbb/xml.js';
import { BbbClient, BbbError, BbbTransportError } from '../bbb/client.js';
import { claimRoom, ownsMeeting, TENANCY_META } from '../inventory/service.js';
import { encodeParam, isMeta, joinQuery, param, parseQuery, type QueryPart } from './query.js';
import { TargetResolver, type GatewayTarget } from './target.js';
import { isCleanText } from '../http/text.js';
import { OutboundRefused, type Outbound } from '../net/outbound.js';

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

export const xmlResponse = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/xml;charset=UTF-8' } });
const failed = (key: string, message: string) => xmlResponse(failedResponse(key, message));

/** The API root: meetplane's own answer, as Scalelite gives its own (never a cluster's body). */
export const ROOT_RESPONSE = buildResponse({ returncode: 'SUCCESS', version: '2.0', apiVersion: '2.0' });

export class Gateway {
  readonly #targets: TargetResolver;

  constructor(
    private readonly deps: { db: Db; box: SecretBox; log: Logger; publicUrl: string; outbound: Outbound },
  ) {
    this.#targets = new TargetResolver(deps.db, deps.box);
  }

  resolve(ref: string): Promise<GatewayTarget | undefined> {
    return this.#targets.resolve(ref);
  }

  async handle(req: GatewayRequest): Promise<Response> {
    // The same for every tenancy, known or not.
    if (req.call === '') return xmlResponse(ROOT_RESPONSE);
    if (!SUPPORTED_CALLS.has(req.call)) return failed('unsupportedRequest', 'This request is not supported.');
    const target = req.tenancyRef ? await this.#targets.resolve(req.tenancyRef) : undefined;
    // An unknown tenancy looks like a wrong secret: tenancy names cannot be probed.
    if (!target) return failed('checksumError', 'Checksums do not match');
    if (!verifyChecksum(req.call, req.rawQuery, target.tenancy.secret, CHECKSUM_ALGORITHMS)) {
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
        return this.forward(target, 'getRecordings', [...parts, encodeParam(`meta_${TENANCY_META}`, target.tenancy.id)]);
      default:
        return this.#recordingChange(target, req.call, parts);
    }
  }

  async #create(target: GatewayTarget, parts: QueryPart[], body: string | undefined): Promise<Response> {
    if (target.tenancy.state === 'frozen') {
      return failed(
        'tenancyFrozen',
        'This tenancy is frozen while it moves to another hosting co-operative: no new meeting can be started now. Meetings already running go on; try again once the move is complete.',
      );
    }
    const meetingId = (param(parts, 'meetingID') ?? '').trim();
    // The front end's callback URL never reaches the cluster (it would call it from inside the hosting network).
    let forwarded: Array<QueryPart | string> = parts.filter((p) => !isMeta(p, RECORDING_READY_META));
    if (meetingId !== '') {
      const readyUrl = parts.find((p) => isMeta(p, RECORDING_READY_META))?.value;
      const callbackUrl = readyUrl ? this.#acceptedCallback(target, readyUrl) : null;
      const room = await claimRoom(this.deps.db, {
        tenancyId: target.tenancy.id,
        meetingId,
        name: param(parts, 'name') ?? '',
        clusterId: target.cluster.id,
        recordingReadyUrl: callbackUrl,
      });
      if (!room) return failed('idNotUnique', 'A meeting already exists with that meeting ID.  Please use a different meeting ID.');
      // The cluster calls meetplane when a recording is ready; meetplane calls the front end, re-signed.
      if (callbackUrl) {
        forwarded = [
          ...forwarded,
          encodeParam(`meta_${RECORDING_READY_META}`, `${this.deps.publicUrl}/t/${target.tenancy.id}/bigbluebutton/recording-ready`),
        ];
      }
    }
    return this.forward(target, 'create', [...forwarded, encodeParam(`meta_${TENANCY_META}`, target.tenancy.id)], body);
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

  /** Calls about one meeting: only the tenancy's own meetings exist for it. */
  async #meetingCall(target: GatewayTarget, call: string, parts: QueryPart[]): Promise<Response> {
    const meetingId = (param(parts, 'meetingID') ?? '').trim();
    if (meetingId !== '' && !(await ownsMeeting(this.deps.db, target.tenancy.id, meetingId))) {
      if (call === 'isMeetingRunning') return xmlResponse(buildResponse({ returncode: 'SUCCESS', running: false }));
      if (call === 'join') return failed('invalidMeetingIdentifier', 'The meeting ID that you supplied did not match any existing meetings');
      return failed('notFound', 'We could not find a meeting with that meeting ID');
    }
    return this.forward(target, call, parts);
  }

  /** The cluster's meetings, reduced to the tenancy's own (by its meta tag). */
  async #getMeetings(target: GatewayTarget, parts: QueryPart[]): Promise<Response> {
    const upstream = await this.forward(target, 'getMeetings', parts);
    if (upstream.status !== 200) return upstream;
    const payload = await upstream.text();
    let response;
    try {
      response = parseResponse(payload);
    } catch (err) {
      if (err instanceof XmlError) return failed('serverError', 'The cluster did not answer in BBB format');
      throw err;
    }
    if (text(response, 'returncode') !== 'SUCCESS') return xmlResponse(payload);
    const own = children(response['meetings'], 'meeting').filter((m) => entries(m['metadata'])[TENANCY_META] === target.tenancy.id);
    if (own.length === 0) {
      return xmlResponse(
        buildResponse({ returncode: 'SUCCESS', meetings: '', messageKey: 'noMeetings', message: 'no meetings were found on this server' }),
      );
    }
    return xmlResponse(buildResponse({ returncode: 'SUCCESS', meetings: { meeting: own as unknown as XmlInput[] } }));
  }

  /** publish/update/deleteRecordings: every named recording must be the tenancy's. */
  async #recordingChange(target: GatewayTarget, call: string, parts: QueryPart[]): Promise<Response> {
    const ids = (param(parts, 'recordID') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (ids.length > 0) {
      const client = new BbbClient({
        apiUrl: target.cluster.apiUrl,
        secret: target.cluster.secret,
        algorithm: target.cluster.algorithm,
        retries: 0,
        fetch: this.deps.outbound.fetch,
      });
      let own: Set<string>;
      try {
        const found = await client.getRecordings({ recordID: ids, state: 'any', meta: { [TENANCY_META]: target.tenancy.id } });
        own = new Set(found.filter((r) => r.metadata[TENANCY_META] === target.tenancy.id).map((r) => r.recordID));
      } catch (err) {
        if (err instanceof BbbTransportError || err instanceof BbbError) return this.#unavailable(target, err);
        throw err;
      }
      if (!ids.every((id) => own.has(id))) return failed('notFound', 'We could not find recordings');
    }
    return this.forward(target, call, parts);
  }

  /** Signs `parts` for the tenancy's cluster, sends them, and streams the answer back. */
  async forward(target: GatewayTarget, call: string, parts: ReadonlyArray<QueryPart | string>, body?: string): Promise<Response> {
    const query = joinQuery(parts);
    const sum = checksum(call, query, target.cluster.secret, target.cluster.algorithm);
    const url = `${target.cluster.apiUrl}/${call}?${query === '' ? '' : `${query}&`}checksum=${sum}`;
    return this.#fetch(target, url, body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': 'application/xml' } });
  }

  async #fetch(target: GatewayTarget, url: string, init: RequestInit): Promise<Response> {
    let upstream: Response;
    try {
      upstream = await this.deps.outbound.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
    } catch (err) {
      return this.#unavailable(target, err);
    }
    // join answers a redirect to the client: it goes back to the browser unchanged.
    const headers = new Headers();
    for (const name of ['content-type', 'location', 'cache-control']) {
      const value = upstream.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    return new Response(upstream.body, { status: upstream.status, headers });
  }

  #unavailable(target: GatewayTarget, err: unknown): Response {
    // The host only: the URL carries the checksum. A refusal says which address and which setting.
    const cause = err instanceof BbbTransportError && err.cause instanceof OutboundRefused ? err.cause : err;
    const reason = cause instanceof OutboundRefused ? { refused: cause.message } : { error: (err as Error)?.name };
    this.deps.log.warn({ cluster: target.cluster.id, host: new URL(target.cluster.apiUrl).host, ...reason }, 'cluster unreachable');
    return failed('serverUnavailable', "The tenancy's BigBlueButton cluster did not answer; try again shortly.");
  }
}
