// A BBB server's recordings on disk, laid out as a real server keeps them under its
// recordings root (/var/bigbluebutton): one `<tree>/<format>/<record_id>/` directory per
// playback format, in the tree of the recording's state (published/, unpublished/ or
// deleted/), holding the playback files and a metadata.xml as the publish scripts of
// record-and-playback write it. The double reads this layout on every call, so writing a
// recording here is how it "arrives"; publishing, unpublishing and deleting move the
// directories between the trees, as bbb-web does.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildXml, isObject, parseXml, XmlError, type XmlInput, type XmlObject } from '../../../server/bbb/xml.js';

/** bbb-web's internal meeting id, which is also the record id: sha1(meetingID)-createTime. */
export function internalMeetingId(meetingId: string, createTime: number): string {
  return `${createHash('sha1').update(meetingId, 'utf8').digest('hex')}-${createTime}`;
}

/** The trees of a BBB recordings root, one per state that has files in place. */
export const RECORDING_TREES = ['published', 'unpublished', 'deleted'] as const;
export type RecordingTree = (typeof RECORDING_TREES)[number];

export interface RecordingSpec {
  /** defaults to internalMeetingId(meetingId, startTime), as on a real server */
  recordId?: string;
  meetingId: string;
  name: string;
  /** the meeting's meta_* create parameters; BBB stores the keys lower-cased */
  meta?: Readonly<Record<string, string>>;
  /** playback files, path relative to the recording directory (e.g. video/webcams.webm) */
  files?: Readonly<Record<string, Uint8Array | string>>;
  /** public origin of the server, e.g. http://127.0.0.1:8080, or a host name (https assumed) */
  host: string;
  format?: string;
  /** default published; the recording is written into this state's tree */
  state?: RecordingTree;
  startTime?: number;
  endTime?: number;
  participants?: number;
}

export interface WrittenRecording {
  recordId: string;
  dir: string;
  playbackUrl: string;
}

/** Where BBB links a format's player: presentation has a versioned player path. */
export function playbackPath(format: string, recordId: string): string {
  return format === 'presentation' ? `/playback/presentation/2.3/${recordId}` : `/playback/${format}/${recordId}/`;
}

/** `root` is the recordings root (the double's recordingsDir); the recording goes into its state's tree. */
export async function writeRecording(root: string, spec: RecordingSpec): Promise<WrittenRecording> {
  const format = spec.format ?? 'presentation';
  const startTime = spec.startTime ?? Date.now() - 3_600_000;
  const endTime = spec.endTime ?? startTime + 1_800_000;
  const recordId = spec.recordId ?? internalMeetingId(spec.meetingId, startTime);
  const origin = spec.host.includes('://') ? spec.host.replace(/\/+$/, '') : `https://${spec.host}`;
  const state = spec.state ?? 'published';
  const dir = join(root, state, format, recordId);

  let size = 0;
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    const target = join(dir, path);
    if (!target.startsWith(dir + '/')) throw new Error(`file path escapes the recording directory: ${path}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    size += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
  }

  const meta: Record<string, string> = { isBreakout: 'false', meetingId: spec.meetingId, meetingName: spec.name };
  for (const [key, value] of Object.entries(spec.meta ?? {})) meta[key.toLowerCase()] = value;
  const recording: XmlInput = {
    id: recordId,
    state,
    published: String(state === 'published'),
    start_time: startTime,
    end_time: endTime,
    participants: spec.participants ?? 1,
    meeting: { '@_id': recordId, '@_externalId': spec.meetingId, '@_name': spec.name, '@_breakout': 'false' },
    meta,
    playback: {
      format,
      link: origin + playbackPath(format, recordId),
      processing_time: 1000,
      duration: endTime - startTime,
      size,
    },
    raw_size: size,
  };
  await mkdir(dir, { recursive: true });
  await writeMetadata(dir, { recording });
  return { recordId, dir, playbackUrl: origin + playbackPath(format, recordId) };
}

export interface StoredRecording {
  /** the tree its directory is in */
  tree: RecordingTree;
  recordId: string;
  format: string;
  dir: string;
  /** the <recording> element of metadata.xml */
  recording: XmlObject;
}

/** Every recording directory with a readable metadata.xml, in every tree and format. */
export async function readRecordings(root: string): Promise<StoredRecording[]> {
  const found: StoredRecording[] = [];
  for (const tree of RECORDING_TREES)
    for (const format of await subdirectories(join(root, tree))) {
      for (const recordId of await subdirectories(join(root, tree, format))) {
        const dir = join(root, tree, format, recordId);
        const recording = await readMetadata(dir);
        if (recording !== undefined) found.push({ tree, recordId, format, dir, recording });
      }
    }
  return found;
}

/** Moves a recording's format directory into another tree (bbb-web's publish, unpublish and delete); returns where it is now. */
export async function moveToTree(root: string, rec: StoredRecording, tree: RecordingTree): Promise<string> {
  if (rec.tree === tree) return rec.dir;
  const dir = join(root, tree, rec.format, rec.recordId);
  await mkdir(dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(rec.dir, dir);
  return dir;
}

/** Rewrites metadata.xml in place; a rename, so a reader never sees half a file. */
export async function writeMetadata(dir: string, document: { readonly [key: string]: XmlInput }): Promise<void> {
  const temp = join(dir, `.metadata.xml.${process.pid}.${Date.now()}`);
  await writeFile(temp, buildXml(document));
  await rename(temp, join(dir, 'metadata.xml'));
}

async function readMetadata(dir: string): Promise<XmlObject | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'metadata.xml'), 'utf8');
  } catch {
    return undefined; // still being written, or not a recording directory
  }
  try {
    const recording = parseXml(text)['recording'];
    return isObject(recording) ? recording : undefined;
  } catch (err) {
    if (err instanceof XmlError) return undefined;
    throw err;
  }
}

async function subdirectories(path: string): Promise<string[]> {
  try {
    const items = await readdir(path, { withFileTypes: true });
    return items.filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}
