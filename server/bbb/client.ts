// A client of one BBB API endpoint (a server or a Scalelite front). Calls are signed with
// the endpoint's shared secret; the secret lives in a private field and never reaches an
// error message. Only read-only calls are retried, so a retry can never create, end or
// change anything twice. The server hands in its outbound policy's fetch
// (server/net/outbound.ts); there is no default, so no call can bypass it by omission.
import { setTimeout as sleep } from 'node:timers/promises';
import { OutboundRefused } from '../net/outbound.js';
import { signQuery, type ChecksumAlgorithm } from './checksum.js';
import { children, entries, parseResponse, text, XmlError, type XmlObject } from './xml.js';

export type ParamValue = string | number | boolean;
export type Params = Readonly<Record<string, ParamValue | undefined>>;

export interface BbbClientOptions {
  /** API base, e.g. https://bbb.example.org/bigbluebutton/api */
  apiUrl: string;
  secret: string;
  algorithm: ChecksumAlgorithm;
  timeoutMs?: number;
  /** extra attempts for read-only calls after a network error, timeout or 5xx */
  retries?: number;
  /** first backoff delay; doubles on each retry */
  retryDelayMs?: number;
  /** the server's Outbound fetch; a test client of a local server may pass the global fetch */
  fetch: typeof fetch;
}

/** The server answered FAILED: messageKey is BBB's stable error key. */
export class BbbError extends Error {
  override name = 'BbbError';
  constructor(
    readonly call: string,
    readonly messageKey: string,
    message: string,
  ) {
    super(message);
  }
}

/** No usable answer: the server was unreachable, too slow, failing, not speaking BBB, or refused by the outbound policy. */
export class BbbTransportError extends Error {
  override name = 'BbbTransportError';
  constructor(
    readonly call: string,
    readonly reason: 'network' | 'timeout' | 'http' | 'protocol' | 'refused',
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface CreateParams {
  meetingID: string;
  name?: string;
  /** sent as meta_<key>; BBB lower-cases the keys */
  meta?: Readonly<Record<string, string>>;
  [param: string]: ParamValue | Readonly<Record<string, string>> | undefined;
}

export interface CreateResult {
  meetingID: string;
  internalMeetingID: string;
  parentMeetingID: string;
  attendeePW?: string;
  moderatorPW?: string;
  createTime: string;
  voiceBridge: string;
  dialNumber: string;
  createDate: string;
  hasUserJoined: boolean;
  duration: number;
  hasBeenForciblyEnded: boolean;
  /** 'duplicateWarning' when the meeting already existed */
  messageKey?: string;
  message?: string;
}

export interface JoinParams {
  meetingID: string;
  fullName: string;
  role?: 'MODERATOR' | 'VIEWER';
  password?: string;
  userID?: string;
  createTime?: string;
  redirect?: boolean;
  [param: string]: ParamValue | undefined;
}

export interface Attendee {
  userID: string;
  fullName: string;
  role: string;
  isPresenter: boolean;
  isListeningOnly: boolean;
  hasJoinedVoice: boolean;
  hasVideo: boolean;
  clientType: string;
}

export interface MeetingInfo {
  meetingName: string;
  meetingID: string;
  internalMeetingID: string;
  createTime: string;
  createDate: string;
  voiceBridge: string;
  dialNumber: string;
  attendeePW?: string;
  moderatorPW?: string;
  running: boolean;
  duration: number;
  hasUserJoined: boolean;
  recording: boolean;
  hasBeenForciblyEnded: boolean;
  startTime: number;
  endTime: number;
  participantCount: number;
  listenerCount: number;
  voiceParticipantCount: number;
  videoCount: number;
  maxUsers: number;
  moderatorCount: number;
  attendees: Attendee[];
  metadata: Record<string, string>;
  isBreakout: boolean;
}

export type RecordingState = 'processing' | 'processed' | 'published' | 'unpublished' | 'deleted';

export interface RecordingsQuery {
  meetingID?: string | readonly string[];
  /** full ids or id prefixes; when given, meetingID is ignored by BBB */
  recordID?: string | readonly string[];
  /** default on BBB: published and unpublished */
  state?: readonly RecordingState[] | 'any';
  /** meta_<key>=value filters, all must match; '%' is a wildcard at either end */
  meta?: Readonly<Record<string, string>>;
  offset?: number;
  /** 1..100 */
  limit?: number;
}

export interface PreviewImage {
  url: string;
  alt: string;
  width: number;
  height: number;
}

export interface PlaybackFormat {
  type: string;
  url: string;
  processingTime: number;
  /** minutes */
  length: number;
  preview: PreviewImage[];
}

export interface Recording {
  recordID: string;
  meetingID: string;
  internalMeetingID: string;
  name: string;
  isBreakout: boolean;
  published: boolean;
  state: string;
  startTime: number;
  endTime: number;
  participants: number;
  /** bytes: the recording's <size>, else the sum of its formats' <size>; 0 when not reported */
  size: number;
  metadata: Record<string, string>;
  playback: PlaybackFormat[];
}

export interface VersionInfo {
  version: string;
  apiVersion?: string;
  bbbVersion?: string;
}

const str = (node: XmlObject, key: string): string => text(node, key) ?? '';
const num = (node: XmlObject, key: string): number => Number(text(node, key) ?? 0) || 0;
const bool = (node: XmlObject, key: string): boolean => text(node, key) === 'true';
const list = (value: string | readonly string[]): string => (typeof value === 'string' ? value : value.join(','));

export class BbbClient {
  readonly #apiUrl: string;
  readonly #secret: string;
  readonly #algorithm: ChecksumAlgorithm;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: BbbClientOptions) {
    this.#apiUrl = new URL(options.apiUrl).href.replace(/\/+$/, '');
    this.#secret = options.secret;
    this.#algorithm = options.algorithm;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retries = options.retries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 200;
    this.#fetch = options.fetch;
  }

  /** `presentationXml` is a `<modules>` document sent as the POST body (pre-uploaded slides). */
  async create(params: CreateParams, options: { presentationXml?: string } = {}): Promise<CreateResult> {
    const { meta, ...rest } = params;
    const query: Record<string, ParamValue | undefined> = {};
    for (const [key, value] of Object.entries(rest)) {
      if (typeof value !== 'object') query[key] = value;
    }
    for (const [key, value] of Object.entries(meta ?? {})) query[`meta_${key}`] = value;
    const r = await this.#call('create', query, { read: false, body: options.presentationXml });
    const messageKey = text(r, 'messageKey');
    const message = text(r, 'message');
    return {
      meetingID: str(r, 'meetingID'),
      internalMeetingID: str(r, 'internalMeetingID'),
      parentMeetingID: str(r, 'parentMeetingID'),
      ...(text(r, 'attendeePW') !== undefined ? { attendeePW: str(r, 'attendeePW') } : {}),
      ...(text(r, 'moderatorPW') !== undefined ? { moderatorPW: str(r, 'moderatorPW') } : {}),
      createTime: str(r, 'createTime'),
      voiceBridge: str(r, 'voiceBridge'),
      dialNumber: str(r, 'dialNumber'),
      createDate: str(r, 'createDate'),
      hasUserJoined: bool(r, 'hasUserJoined'),
      duration: num(r, 'duration'),
      hasBeenForciblyEnded: bool(r, 'hasBeenForciblyEnded'),
      ...(messageKey ? { messageKey } : {}),
      ...(message ? { message } : {}),
    };
  }

  /** The signed URL a user's browser opens; nothing is sent from here. */
  join(params: JoinParams): string {
    return this.#url('join', params);
  }

  async end(meetingID: string): Promise<void> {
    await this.#call('end', { meetingID }, { read: false });
  }

  async isMeetingRunning(meetingID: string): Promise<boolean> {
    return bool(await this.#call('isMeetingRunning', { meetingID }, { read: true }), 'running');
  }

  async getMeetingInfo(meetingID: string): Promise<MeetingInfo> {
    return toMeeting(await this.#call('getMeetingInfo', { meetingID }, { read: true }));
  }

  async getMeetings(): Promise<MeetingInfo[]> {
    const r = await this.#call('getMeetings', {}, { read: true });
    return children(r['meetings'], 'meeting').map(toMeeting);
  }

  async getRecordings(q: RecordingsQuery = {}): Promise<Recording[]> {
    if (q.offset !== undefined && !(Number.isInteger(q.offset) && q.offset >= 0)) {
      throw new RangeError('offset must be an integer >= 0');
    }
    if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= 100)) {
      throw new RangeError('limit must be an integer between 1 and 100');
    }
    const query: Record<string, ParamValue | undefined> = {
      meetingID: q.meetingID === undefined ? undefined : list(q.meetingID),
      recordID: q.recordID === undefined ? undefined : list(q.recordID),
      state: q.state === undefined ? undefined : list(q.state),
      offset: q.offset,
      limit: q.limit,
    };
    for (const [key, value] of Object.entries(q.meta ?? {})) query[`meta_${key}`] = value;
    const r = await this.#call('getRecordings', query, { read: true });
    return children(r['recordings'], 'recording').map(toRecording);
  }

  async publishRecordings(recordID: string | readonly string[], publish: boolean): Promise<boolean> {
    const r = await this.#call('publishRecordings', { recordID: list(recordID), publish }, { read: false });
    return bool(r, 'published');
  }

  /** meta values replace existing ones; an empty value removes the key. */
  async updateRecordings(recordID: string | readonly string[], meta: Readonly<Record<string, string>>): Promise<boolean> {
    const query: Record<string, ParamValue> = { recordID: list(recordID) };
    for (const [key, value] of Object.entries(meta)) query[`meta_${key}`] = value;
    return bool(await this.#call('updateRecordings', query, { read: false }), 'updated');
  }

  async deleteRecordings(recordID: string | readonly string[]): Promise<boolean> {
    return bool(await this.#call('deleteRecordings', { recordID: list(recordID) }, { read: false }), 'deleted');
  }

  /** GET of the API root: unsigned, answers the API version. */
  async version(): Promise<VersionInfo> {
    const r = await this.#send('version', this.#apiUrl, { read: true });
    const apiVersion = text(r, 'apiVersion');
    const bbbVersion = text(r, 'bbbVersion');
    return { version: str(r, 'version'), ...(apiVersion ? { apiVersion } : {}), ...(bbbVersion ? { bbbVersion } : {}) };
  }

  #url(call: string, params: Params): string {
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) query[key] = String(value);
    }
    return `${this.#apiUrl}/${call}?${signQuery(call, query, this.#secret, this.#algorithm)}`;
  }

  #call(call: string, params: Params, how: { read: boolean; body?: string | undefined }): Promise<XmlObject> {
    return this.#send(call, this.#url(call, params), how);
  }

  async #send(call: string, url: string, how: { read: boolean; body?: string | undefined }): Promise<XmlObject> {
    const attempts = how.read ? 1 + this.#retries : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(call, url, how.body);
      } catch (err) {
        const retryable =
          err instanceof BbbTransportError &&
          (err.reason === 'network' || err.reason === 'timeout' || (err.reason === 'http' && (err.status ?? 0) >= 500));
        if (!retryable || attempt >= attempts) throw err;
        await sleep(this.#retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  async #attempt(call: string, url: string, body: string | undefined): Promise<XmlObject> {
    let res: Response;
    let payload: string;
    try {
      res = await this.#fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/xml' } }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      payload = await res.text();
    } catch (err) {
      // Only the call name and host go into the message: the URL carries the query.
      const host = new URL(url).host;
      // The policy's message names the address and the setting that opens it (never the query).
      if (err instanceof OutboundRefused) throw new BbbTransportError(call, 'refused', `${call}: ${err.message}`, undefined, { cause: err });
      if (err instanceof DOMException && err.name === 'TimeoutError') {
        throw new BbbTransportError(call, 'timeout', `${call}: no answer from ${host} within ${this.#timeoutMs} ms`);
      }
      throw new BbbTransportError(call, 'network', `${call}: ${host} unreachable`, undefined, { cause: err });
    }
    if (!res.ok) {
      throw new BbbTransportError(call, 'http', `${call}: HTTP ${res.status} from ${new URL(url).host}`, res.status);
    }
    let response: XmlObject;
    try {
      response = parseResponse(payload);
    } catch (err) {
      if (!(err instanceof XmlError)) throw err;
      throw new BbbTransportError(call, 'protocol', `${call}: answer is not a BBB API response`, res.status);
    }
    if (text(response, 'returncode') !== 'SUCCESS') {
      throw new BbbError(call, text(response, 'messageKey') ?? 'unknown', text(response, 'message') ?? 'FAILED');
    }
    return response;
  }
}

function toMeeting(m: XmlObject): MeetingInfo {
  return {
    meetingName: str(m, 'meetingName'),
    meetingID: str(m, 'meetingID'),
    internalMeetingID: str(m, 'internalMeetingID'),
    createTime: str(m, 'createTime'),
    createDate: str(m, 'createDate'),
    voiceBridge: str(m, 'voiceBridge'),
    dialNumber: str(m, 'dialNumber'),
    ...(text(m, 'attendeePW') !== undefined ? { attendeePW: str(m, 'attendeePW') } : {}),
    ...(text(m, 'moderatorPW') !== undefined ? { moderatorPW: str(m, 'moderatorPW') } : {}),
    running: bool(m, 'running'),
    duration: num(m, 'duration'),
    hasUserJoined: bool(m, 'hasUserJoined'),
    recording: bool(m, 'recording'),
    hasBeenForciblyEnded: bool(m, 'hasBeenForciblyEnded'),
    startTime: num(m, 'startTime'),
    endTime: num(m, 'endTime'),
    participantCount: num(m, 'participantCount'),
    listenerCount: num(m, 'listenerCount'),
    voiceParticipantCount: num(m, 'voiceParticipantCount'),
    videoCount: num(m, 'videoCount'),
    maxUsers: num(m, 'maxUsers'),
    moderatorCount: num(m, 'moderatorCount'),
    attendees: children(m['attendees'], 'attendee').map((a) => ({
      userID: str(a, 'userID'),
      fullName: str(a, 'fullName'),
      role: str(a, 'role'),
      isPresenter: bool(a, 'isPresenter'),
      isListeningOnly: bool(a, 'isListeningOnly'),
      hasJoinedVoice: bool(a, 'hasJoinedVoice'),
      hasVideo: bool(a, 'hasVideo'),
      clientType: str(a, 'clientType'),
    })),
    metadata: entries(m['metadata']),
    isBreakout: bool(m, 'isBreakout'),
  };
}

function toRecording(r: XmlObject): Recording {
  const formats = children(r['playback'], 'format');
  const size = text(r, 'size') !== undefined ? num(r, 'size') : formats.reduce((n, f) => n + num(f, 'size'), 0);
  return {
    recordID: str(r, 'recordID'),
    meetingID: str(r, 'meetingID'),
    internalMeetingID: text(r, 'internalMeetingID') ?? str(r, 'recordID'),
    name: str(r, 'name'),
    isBreakout: bool(r, 'isBreakout'),
    published: bool(r, 'published'),
    state: str(r, 'state'),
    startTime: num(r, 'startTime'),
    endTime: num(r, 'endTime'),
    participants: num(r, 'participants'),
    size,
    metadata: entries(r['metadata']),
    playback: formats.map((f) => ({
      type: str(f, 'type'),
      url: str(f, 'url'),
      processingTime: num(f, 'processingTime'),
      length: num(f, 'length'),
      preview: children(f['preview'], 'images')
        .flatMap((images) => children(images, 'image'))
        .map((img) => ({
          url: str(img, '#text'),
          alt: str(img, '@_alt'),
          width: num(img, '@_width'),
          height: num(img, '@_height'),
        })),
    })),
  };
}
