// A BigBlueButton API server double on a loopback port, for tests. It follows the public
// API reference (docs.bigbluebutton.org, "API Reference") and bbb-web's answers: every call
// is checked against the shared secret over the raw query string, answers are BBB's XML
// envelope with bbb-web's message keys, and recordings are read on each call from a
// recordings root laid out like /var/bigbluebutton: published/, unpublished/ and deleted/
// trees of <format>/<record id>/ directories. Unpublishing moves a recording's directories
// to unpublished/, publishing back to published/, deleting to deleted/ (state deleted,
// listed only for state=deleted or any); only the published tree is served (player pages
// and files of any other answer 404). Where it simplifies, it does so without loosening a rule:
// - `end` removes the meeting at once (bbb-web forgets it a little later);
// - a join counts as the user entering the client, so the meeting is running from then on;
// - an unknown call answers Scalelite's `unsupportedRequest` rather than an HTML 404.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CHECKSUM_ALGORITHMS, verifyChecksum, type ChecksumAlgorithm } from '../../../server/bbb/checksum.js';
import {
  buildResponse,
  children,
  entries,
  failedResponse,
  isObject,
  parseXml,
  text,
  XmlError,
  type XmlInput,
  type XmlObject,
} from '../../../server/bbb/xml.js';
import { internalMeetingId, moveToTree, readRecordings, writeMetadata, type RecordingTree, type StoredRecording } from './recordings.js';

export interface BbbDoubleOptions {
  secret: string;
  /** checksum algorithms accepted (bbb-web's supportedChecksumAlgorithms); default all four */
  algorithm?: ChecksumAlgorithm | readonly ChecksumAlgorithm[];
  /** the recordings root (like /var/bigbluebutton): published/, unpublished/ and deleted/ trees */
  recordingsDir: string;
  /** 0 (default) picks a free port */
  port?: number;
}

export interface DoubleAttendee {
  userID: string;
  fullName: string;
  role: 'MODERATOR' | 'VIEWER';
  sessionToken: string;
}

export interface DoubleMeeting {
  meetingID: string;
  internalMeetingID: string;
  name: string;
  createTime: number;
  voiceBridge: string;
  dialNumber: string;
  attendeePW: string;
  moderatorPW: string;
  /** the passwords the first create asked for; a repeated create must ask for the same */
  requestedPasswords: string;
  record: boolean;
  duration: number;
  metadata: Record<string, string>;
  /** documents named in a POSTed <modules> body */
  presentations: string[];
  attendees: DoubleAttendee[];
  hasUserJoined: boolean;
}

export interface DoubleRequest {
  method: string;
  /** API call name; '' for the API root */
  call: string;
  /** raw query string as received */
  query: string;
}

export interface BbbDouble {
  /** API base, e.g. http://127.0.0.1:PORT/bigbluebutton/api */
  url: string;
  origin: string;
  meetings: ReadonlyMap<string, DoubleMeeting>;
  /** every request that reached the API, in order */
  requests: readonly DoubleRequest[];
  /** offline: connections are reset, or accepted and never answered ('hang') */
  setOnline(online: boolean, mode?: 'reset' | 'hang'): void;
  /** the next `count` API requests answer HTTP `status` (a failing proxy or servlet) */
  failNext(count: number, status?: number): void;
  /**
   * Runs `meanwhile` once, just before the next `call` is answered: someone else acting
   * between two calls of a client (a moderator ending the meeting, an operator deleting a
   * recording). It may call this server's API itself.
   */
  beforeNext(call: string, meanwhile: () => Promise<void>): void;
  close(): Promise<void>;
}

type Params = URLSearchParams;
type Answer = string | { redirect: string };
type Handler = (params: Params, body: string | undefined) => Answer | Promise<Answer>;

const sha1 = (s: string): string => createHash('sha1').update(s, 'utf8').digest('hex');
const split = (value: string | null): string[] => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
const XML_NAME = /^[A-Za-z_][\w.-]*$/;

// Java's Date.toString() in UTC, as bbb-web prints createDate.
function javaDate(ms: number): string {
  const [day, date, month, year, time] = new Date(ms).toUTCString().replace(',', '').split(' ');
  return `${day} ${month} ${date} ${time} UTC ${year}`;
}

/** meta_* parameters as bbb-web stores them: keys lower-cased, invalid XML names dropped. */
function metaParams(params: Params): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [key, value] of params) {
    const name = key.slice(5).toLowerCase();
    if (key.toLowerCase().startsWith('meta_') && XML_NAME.test(name) && !(name in meta)) meta[name] = value;
  }
  return meta;
}

// '%' at either end of a filter value is a wildcard (RecordingService.recordingMatchesMetadata).
function metaMatches(value: string | undefined, filter: string): boolean {
  if (value === undefined) return false;
  const head = filter.startsWith('%');
  const tail = filter.length > 1 && filter.endsWith('%');
  const core = filter.slice(head ? 1 : 0, tail ? -1 : undefined);
  if (head && tail) return value.includes(core);
  if (head) return value.endsWith(core);
  if (tail) return value.startsWith(core);
  return value === filter;
}

const CONTENT_TYPES: Record<string, string> = {
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.ogg': 'audio/ogg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.vtt': 'text/vtt',
  '.html': 'text/html',
};

export async function startBbbDouble(options: BbbDoubleOptions): Promise<BbbDouble> {
  const accepted: readonly ChecksumAlgorithm[] =
    options.algorithm === undefined ? CHECKSUM_ALGORITHMS : typeof options.algorithm === 'string' ? [options.algorithm] : options.algorithm;
  const recordingsDir = resolve(options.recordingsDir);
  const meetings = new Map<string, DoubleMeeting>();
  const requests: DoubleRequest[] = [];
  let origin = '';
  let failures = { count: 0, status: 500 };
  const meanwhile = new Map<string, () => Promise<void>>();

  const meetingXml = (m: DoubleMeeting): Record<string, XmlInput> => ({
    meetingName: m.name,
    meetingID: m.meetingID,
    internalMeetingID: m.internalMeetingID,
    createTime: m.createTime,
    createDate: javaDate(m.createTime),
    voiceBridge: m.voiceBridge,
    dialNumber: m.dialNumber,
    attendeePW: m.attendeePW,
    moderatorPW: m.moderatorPW,
    running: m.attendees.length > 0,
    duration: m.duration,
    hasUserJoined: m.hasUserJoined,
    recording: m.record,
    hasBeenForciblyEnded: false,
    startTime: m.createTime,
    endTime: 0,
    participantCount: m.attendees.length,
    listenerCount: 0,
    voiceParticipantCount: 0,
    videoCount: 0,
    maxUsers: 0,
    moderatorCount: m.attendees.filter((a) => a.role === 'MODERATOR').length,
    attendees: {
      attendee: m.attendees.map((a) => ({
        userID: a.userID,
        fullName: a.fullName,
        role: a.role,
        isPresenter: false,
        isListeningOnly: false,
        hasJoinedVoice: false,
        hasVideo: false,
        clientType: 'HTML5',
      })),
    },
    metadata: m.metadata,
    isBreakout: false,
  });

  const createAnswer = (m: DoubleMeeting, messageKey = '', message = ''): string =>
    buildResponse({
      returncode: 'SUCCESS',
      meetingID: m.meetingID,
      internalMeetingID: m.internalMeetingID,
      parentMeetingID: 'bbb-none',
      attendeePW: m.attendeePW,
      moderatorPW: m.moderatorPW,
      createTime: m.createTime,
      voiceBridge: m.voiceBridge,
      dialNumber: m.dialNumber,
      createDate: javaDate(m.createTime),
      hasUserJoined: m.hasUserJoined,
      duration: m.duration,
      hasBeenForciblyEnded: false,
      messageKey,
      message,
    });

  const missingMeetingID = (): string => failedResponse('missingParamMeetingID', 'You must provide a meeting ID');

  // One entry per recording id, with its formats (one metadata.xml each), as getRecordings lists them.
  interface Group {
    recordId: string;
    /** the first format's <recording>: id, state, times and meta are the same in every format */
    recording: XmlObject;
    formats: StoredRecording[];
  }

  async function recordingGroups(): Promise<Map<string, Group>> {
    const groups = new Map<string, Group>();
    for (const rec of await readRecordings(recordingsDir)) {
      const group = groups.get(rec.recordId);
      if (group === undefined) groups.set(rec.recordId, { recordId: rec.recordId, recording: rec.recording, formats: [rec] });
      else group.formats.push(rec);
    }
    return groups;
  }

  // The recordings named by a comma-separated recordID parameter (exact ids), every format.
  async function namedRecordings(params: Params): Promise<StoredRecording[]> {
    const groups = await recordingGroups();
    return split(params.get('recordID')).flatMap((id) => groups.get(id)?.formats ?? []);
  }

  function recordingXml({ recordId, recording, formats }: Group): Record<string, XmlInput> {
    const meeting = isObject(recording['meeting']) ? recording['meeting'] : {};
    const meta = entries(recording['meta']);
    return {
      recordID: recordId,
      meetingID: text(meeting, '@_externalId') ?? meta['meetingId'] ?? '',
      internalMeetingID: recordId,
      name: text(meeting, '@_name') ?? meta['meetingName'] ?? '',
      isBreakout: text(meeting, '@_breakout') ?? meta['isBreakout'] ?? 'false',
      published: text(recording, 'published') ?? 'false',
      state: text(recording, 'state') ?? '',
      startTime: text(recording, 'start_time') ?? '',
      endTime: text(recording, 'end_time') ?? '',
      participants: text(recording, 'participants') ?? '',
      // bbb-web 2.5+: rawSize of the recording, size summed over its formats and per format.
      rawSize: text(recording, 'raw_size') ?? '0',
      metadata: meta,
      size: formats.reduce((n, f) => n + Number(text(f.recording['playback'], 'size') ?? 0), 0),
      playback: {
        format: formats.map((f) => {
          const playback = isObject(f.recording['playback']) ? f.recording['playback'] : {};
          const images = children(children(children(playback, 'extensions')[0], 'preview')[0], 'images')[0];
          return {
            type: text(playback, 'format') ?? '',
            url: text(playback, 'link') ?? '',
            processingTime: text(playback, 'processing_time') ?? '0',
            length: Math.round(Number(text(playback, 'duration') ?? 0) / 60_000),
            size: text(playback, 'size') ?? '0',
            preview: images === undefined ? undefined : { images: { image: children(images, 'image') } },
          };
        }),
      },
    };
  }

  // Rewrites each format's metadata.xml; with `tree`, first moves its directory there (bbb-web's changeState).
  async function updateMetadata(recs: StoredRecording[], change: (recording: XmlObject) => void, tree?: RecordingTree): Promise<void> {
    for (const rec of recs) {
      const recording = structuredClone(rec.recording);
      change(recording);
      const dir = tree === undefined ? rec.dir : await moveToTree(recordingsDir, rec, tree);
      await writeMetadata(dir, { recording });
    }
  }

  const handlers: Record<string, Handler> = {
    create(params, body) {
      const meetingID = (params.get('meetingID') ?? '').trim();
      const name = params.get('name') ?? '';
      if (meetingID === '') return missingMeetingID();
      if (meetingID.length < 2 || meetingID.length > 256) {
        return failedResponse('validationError', 'Meeting ID must be between 2 and 256 characters');
      }
      if (meetingID.includes(',')) return failedResponse('validationError', "Meeting ID cannot contain ','");
      if (name === '') return failedResponse('validationError', 'You must provide a meeting name');
      if (name.length < 2 || name.length > 256) {
        return failedResponse('validationError', 'Meeting name must be between 2 and 256 characters');
      }
      const requestedPasswords = JSON.stringify([params.get('attendeePW'), params.get('moderatorPW')]);
      const existing = meetings.get(meetingID);
      if (existing !== undefined) {
        // Idempotent create: same meeting asked again (pre-uploaded slides are ignored then).
        if (existing.requestedPasswords !== requestedPasswords) {
          return failedResponse('idNotUnique', 'A meeting already exists with that meeting ID.  Please use a different meeting ID.');
        }
        return createAnswer(existing, 'duplicateWarning', 'This conference was already in existence and may currently be in progress.');
      }
      let presentations: string[] = [];
      if (body !== undefined) {
        let modules: XmlObject;
        try {
          modules = parseXml(body);
        } catch (err) {
          if (err instanceof XmlError) return failedResponse('invalidRequestBody', 'Invalid request body');
          throw err;
        }
        presentations = children(modules['modules'], 'module')
          .filter((m) => text(m, '@_name') === 'presentation')
          .flatMap((m) => children(m, 'document'))
          .map((d) => text(d, '@_filename') ?? text(d, '@_name') ?? text(d, '@_url') ?? '');
      }
      const createTime = Date.now();
      const meeting: DoubleMeeting = {
        meetingID,
        internalMeetingID: internalMeetingId(meetingID, createTime),
        name,
        createTime,
        voiceBridge: params.get('voiceBridge') ?? String(randomInt(70000, 80000)),
        dialNumber: params.get('dialNumber') ?? '613-555-1234',
        attendeePW: params.get('attendeePW') ?? randomBytes(6).toString('base64url'),
        moderatorPW: params.get('moderatorPW') ?? randomBytes(6).toString('base64url'),
        requestedPasswords,
        record: params.get('record') === 'true',
        duration: Number(params.get('duration')) || 0,
        metadata: metaParams(params),
        presentations,
        attendees: [],
        hasUserJoined: false,
      };
      meetings.set(meetingID, meeting);
      return createAnswer(meeting);
    },

    join(params) {
      const fullName = (params.get('fullName') ?? '').trim();
      const meetingID = (params.get('meetingID') ?? '').trim();
      if (fullName === '') {
        return failedResponse('missingParamFullName', 'You must specify a name for the attendee who will be joining the meeting.');
      }
      if (meetingID === '') return missingMeetingID();
      const meeting = meetings.get(meetingID);
      if (meeting === undefined) {
        return failedResponse('invalidMeetingIdentifier', 'The meeting ID that you supplied did not match any existing meetings');
      }
      const createTime = params.get('createTime');
      if (createTime !== null && createTime !== String(meeting.createTime)) {
        return failedResponse('mismatchCreateTimeParam', 'The createTime parameter submitted mismatches with the current meeting.');
      }
      const askedRole = (params.get('role') ?? '').toUpperCase();
      const password = params.get('password');
      const role =
        askedRole === 'MODERATOR' || askedRole === 'VIEWER'
          ? askedRole
          : password === meeting.moderatorPW
            ? 'MODERATOR'
            : password === meeting.attendeePW
              ? 'VIEWER'
              : undefined;
      if (role === undefined) {
        return failedResponse(
          'invalidPassword',
          'You either did not supply a password or the password supplied is neither the attendee or moderator password for this conference.',
        );
      }
      const internalUserID = `w_${randomBytes(9).toString('hex').slice(0, 12)}`;
      const attendee: DoubleAttendee = {
        userID: params.get('userID') ?? internalUserID,
        fullName,
        role,
        sessionToken: randomBytes(8).toString('hex'),
      };
      meeting.attendees.push(attendee);
      meeting.hasUserJoined = true;
      const url = `${origin}/html5client/join?sessionToken=${attendee.sessionToken}`;
      if (params.get('redirect') !== 'false') return { redirect: url };
      return buildResponse({
        returncode: 'SUCCESS',
        messageKey: 'successfullyJoined',
        message: 'You have joined successfully.',
        meeting_id: meeting.internalMeetingID,
        user_id: internalUserID,
        auth_token: randomBytes(6).toString('hex'),
        session_token: attendee.sessionToken,
        url,
      });
    },

    end(params) {
      const meetingID = (params.get('meetingID') ?? '').trim();
      if (meetingID === '') return missingMeetingID();
      if (!meetings.delete(meetingID)) {
        return failedResponse('notFound', 'We could not find a meeting with that meeting ID - perhaps the meeting is not yet running?');
      }
      return buildResponse({
        returncode: 'SUCCESS',
        messageKey: 'sentEndMeetingRequest',
        message:
          'A request to end the meeting was sent.  Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API calls to verify that it was ended.',
      });
    },

    isMeetingRunning(params) {
      const meetingID = (params.get('meetingID') ?? '').trim();
      if (meetingID === '') return missingMeetingID();
      return buildResponse({ returncode: 'SUCCESS', running: (meetings.get(meetingID)?.attendees.length ?? 0) > 0 });
    },

    getMeetingInfo(params) {
      const meetingID = (params.get('meetingID') ?? '').trim();
      if (meetingID === '') return missingMeetingID();
      const meeting = meetings.get(meetingID);
      if (meeting === undefined) return failedResponse('notFound', 'We could not find a meeting with that meeting ID');
      return buildResponse({ returncode: 'SUCCESS', ...meetingXml(meeting) });
    },

    getMeetings() {
      if (meetings.size === 0) {
        return buildResponse({ returncode: 'SUCCESS', meetings: '', messageKey: 'noMeetings', message: 'no meetings were found on this server' });
      }
      return buildResponse({ returncode: 'SUCCESS', meetings: { meeting: [...meetings.values()].map(meetingXml) } });
    },

    async getRecordings(params) {
      const states = split(params.get('state'));
      const recordIDs = split(params.get('recordID'));
      // Record ids start with sha1(meetingID); recordID wins over meetingID, and matches prefixes.
      const prefixes = recordIDs.length > 0 ? recordIDs : split(params.get('meetingID')).map(sha1);
      const filters = Object.entries(metaParams(params));
      const startTime = (g: Group): number => Number(text(g.recording, 'start_time'));
      const found = [...(await recordingGroups()).values()]
        .filter((g) => {
          const state = text(g.recording, 'state') ?? '';
          const meta = entries(g.recording['meta']);
          return (
            (prefixes.length === 0 || prefixes.some((p) => g.recordId.startsWith(p))) &&
            (states.includes('any') || (states.length > 0 ? states : ['published', 'unpublished']).includes(state)) &&
            filters.every(([key, value]) => metaMatches(meta[key], value))
          );
        })
        .sort((a, b) => startTime(a) - startTime(b) || a.recordId.localeCompare(b.recordId));
      const offset = Math.max(0, Number.parseInt(params.get('offset') ?? '0', 10) || 0);
      const limit = Number.parseInt(params.get('limit') ?? '', 10);
      const page = found.slice(offset, limit >= 1 ? offset + Math.min(limit, 100) : undefined);
      if (page.length === 0) {
        return buildResponse({ returncode: 'SUCCESS', recordings: '', messageKey: 'noRecordings', message: 'There are no recordings for the meeting(s).' });
      }
      return buildResponse({ returncode: 'SUCCESS', recordings: { recording: page.map(recordingXml) } });
    },

    async publishRecordings(params) {
      const publish = params.get('publish');
      if (split(params.get('recordID')).length === 0) return failedResponse('missingParamRecordID', 'You must specify a recordID.');
      if (publish === null || publish === '') {
        return failedResponse('missingParamPublish', 'You must specify a publish value true or false.');
      }
      const recs = (await namedRecordings(params)).filter((r) =>
        ['published', 'unpublished'].includes(text(r.recording, 'state') ?? ''),
      );
      if (recs.length === 0) return failedResponse('notFound', 'We could not find recordings');
      const published = publish === 'true';
      await updateMetadata(
        recs,
        (recording) => {
          recording['state'] = published ? 'published' : 'unpublished';
          recording['published'] = String(published);
        },
        published ? 'published' : 'unpublished',
      );
      return buildResponse({ returncode: 'SUCCESS', published });
    },

    async updateRecordings(params) {
      if (split(params.get('recordID')).length === 0) return failedResponse('missingParamRecordID', 'You must specify a recordID.');
      const recs = await namedRecordings(params);
      if (recs.length === 0) return failedResponse('notFound', 'We could not find recordings');
      const changes = Object.entries(metaParams(params));
      await updateMetadata(recs, (recording) => {
        const meta = isObject(recording['meta']) ? recording['meta'] : {};
        for (const [key, value] of changes) {
          if (value === '') delete meta[key];
          else meta[key] = value;
        }
        recording['meta'] = meta;
      });
      return buildResponse({ returncode: 'SUCCESS', updated: true });
    },

    async deleteRecordings(params) {
      if (split(params.get('recordID')).length === 0) return failedResponse('missingParamRecordID', 'You must specify a recordID.');
      // Deleted ones are gone as far as the API is concerned: deleting again is notFound.
      const recs = (await namedRecordings(params)).filter((r) => r.tree !== 'deleted');
      if (recs.length === 0) return failedResponse('notFound', 'We could not find recordings');
      await updateMetadata(
        recs,
        (recording) => {
          recording['state'] = 'deleted';
          recording['published'] = 'false';
        },
        'deleted',
      );
      return buildResponse({ returncode: 'SUCCESS', deleted: true });
    },
  };

  const app = new Hono<{ Bindings: HttpBindings }>();
  const xml = (c: Context, body: string, status: 200 | 404 = 200): Response =>
    c.body(body, status, { 'content-type': 'text/xml;charset=UTF-8' });

  // Ahead of every API route: record the request, then fail it if told to.
  app.use('/bigbluebutton/api/*', async (c, next) => {
    const raw = c.env.incoming.url ?? '';
    const q = raw.indexOf('?');
    const call = c.req.path.replace(/^\/bigbluebutton\/api\/?/, '');
    requests.push({ method: c.req.method, call, query: q < 0 ? '' : raw.slice(q + 1) });
    if (failures.count > 0) {
      failures = { ...failures, count: failures.count - 1 };
      return c.html('<html><body><h1>Internal Server Error</h1></body></html>', failures.status as ContentfulStatusCode);
    }
    const before = meanwhile.get(call);
    if (before) {
      meanwhile.delete(call);
      await before();
    }
    await next();
  });

  const version = (c: Context): Response =>
    xml(c, buildResponse({ returncode: 'SUCCESS', version: '2.0', apiVersion: '2.0', bbbVersion: '3.0.0' }));
  app.get('/bigbluebutton/api', version);
  app.get('/bigbluebutton/api/', version);

  app.on(['GET', 'POST'], '/bigbluebutton/api/:call', async (c) => {
    const call = c.req.param('call');
    const handler = Object.hasOwn(handlers, call) ? handlers[call] : undefined;
    if (handler === undefined) return xml(c, failedResponse('unsupportedRequest', 'This request is not supported.'));
    const raw = c.env.incoming.url ?? '';
    const q = raw.indexOf('?');
    const rawQuery = q < 0 ? '' : raw.slice(q + 1);
    if (!verifyChecksum(call, rawQuery, options.secret, accepted)) {
      return xml(c, failedResponse('checksumError', 'Checksums do not match'));
    }
    let body: string | undefined;
    if (c.req.method === 'POST') {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
      // Only create takes a body here: a <modules> document with pre-uploaded slides.
      if (call !== 'create' || !['application/xml', 'text/xml'].includes(type)) {
        return xml(c, failedResponse('unsupportedContentType', 'POST request Content-Type is missing or unsupported'));
      }
      body = await c.req.text();
    }
    const answer = await handler(new URLSearchParams(rawQuery), body);
    return typeof answer === 'string' ? xml(c, answer) : c.redirect(answer.redirect, 302);
  });

  app.get('/html5client/join', (c) => c.html('<html><body>BigBlueButton client</body></html>'));

  // A published recording's directory, or undefined: nginx serves the published tree only,
  // so nothing of an unpublished or deleted recording is served.
  async function publishedDir(format: string, recordId: string): Promise<string | undefined> {
    const rec = (await readRecordings(recordingsDir)).find((r) => r.tree === 'published' && r.format === format && r.recordId === recordId);
    return rec !== undefined && text(rec.recording, 'state') === 'published' ? rec.dir : undefined;
  }

  // Player pages: /playback/presentation/2.3/<id>, /playback/<format>/<id>/
  app.get('/playback/:format/*', async (c) => {
    const recordId = c.req.path.split('/').filter((s) => s !== '').at(-1) ?? '';
    const dir = await publishedDir(c.req.param('format'), recordId);
    if (dir === undefined) return c.text('Not Found', 404);
    return c.html(`<html><body>Playback of ${recordId}</body></html>`);
  });

  // Playback files, served from the published tree like nginx does: /<format>/<id>/<path>
  app.get('/:format/:recordId/*', async (c) => {
    const dir = await publishedDir(c.req.param('format'), c.req.param('recordId'));
    const rest = c.req.path.split('/').slice(3).join('/');
    const file = dir === undefined ? undefined : resolve(dir, rest);
    if (file === undefined || !file.startsWith(dir + sep) || file.endsWith(`${sep}metadata.xml`)) return c.text('Not Found', 404);
    try {
      const bytes = await readFile(file);
      return c.body(bytes, 200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    } catch {
      return c.text('Not Found', 404);
    }
  });

  let online = true;
  let offlineMode: 'reset' | 'hang' = 'reset';
  const hung = new Set<ServerResponse>();
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const server = createServer((req, res) => {
    if (online) return void listener(req, res);
    if (offlineMode === 'reset') req.socket.destroy();
    else hung.add(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}/bigbluebutton/api`,
    origin,
    meetings,
    requests,
    setOnline(value, mode = 'reset') {
      online = value;
      offlineMode = mode;
      if (value) {
        // Requests that hung during the outage are lost, as they would be.
        for (const res of hung) res.socket?.destroy();
        hung.clear();
      }
    },
    failNext(count, status = 500) {
      failures = { count, status };
    },
    beforeNext(call, action) {
      meanwhile.set(call, action);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((ok, fail) => server.close((err) => (err ? fail(err) : ok())));
    },
  };
}

