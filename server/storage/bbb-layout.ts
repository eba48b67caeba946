// Where a BBB server keeps its recordings. Under its recordings root
// (/var/bigbluebutton) each recording lives, per playback format, in the tree of
// its state: published/<format>/<id> (what nginx serves), unpublished/<format>/<id>
// (moved there by publishRecordings publish=false: kept, never served) and
// deleted/<format>/<id> (moved there by deleteRecordings, until BBB's cleanup
// purges it). A cluster's storage URL names that root; a copy puts each
// recording into the same tree at the target, and deleting one means deleting
// it in every tree.
import { joinPath, safePath } from './paths.js';
import type { RecordingStorage } from './types.js';

export const RECORDING_TREES = ['published', 'unpublished', 'deleted'] as const;
export type RecordingTree = (typeof RECORDING_TREES)[number];

/** The tree BBB keeps a recording of `state` in; null while it has none (processing, processed). */
export function treeOfState(state: string): RecordingTree | null {
  return (RECORDING_TREES as readonly string[]).includes(state) ? (state as RecordingTree) : null;
}

/** `<tree>/<format>/<recordId>`, refused if a part could leave its place. */
export function recordingDir(tree: RecordingTree, format: string, recordId: string): string {
  for (const part of [format, recordId]) if (safePath(part) !== part || part.includes('/')) throw new Error(`not a plain name: ${JSON.stringify(part)}`);
  return joinPath(joinPath(tree, format), recordId);
}

/** What a path under the recordings root belongs to: its tree, format and recording (undefined: not a recording's file). */
export function recordingOfPath(path: string): { tree: RecordingTree; format: string; recordId: string; dir: string } | undefined {
  const [tree, format, recordId, ...rest] = path.split('/');
  if (!tree || !format || !recordId || !rest.length || !treeOfState(tree)) return undefined;
  return { tree: tree as RecordingTree, format, recordId, dir: `${tree}/${format}/${recordId}` };
}

export interface LocatedFormat {
  tree: RecordingTree;
  format: string;
  /** `<tree>/<format>/<recordId>` */
  dir: string;
}

/**
 * Finds each format of a recording in the storage: first in the tree its
 * state names, then in the others (its state may have changed since it was
 * listed). Returns one entry per format found; a format in no tree is missing.
 */
export async function locateRecording(storage: RecordingStorage, recordId: string, state: string, formats: readonly string[]): Promise<{ found: LocatedFormat[]; missing: string[] }> {
  const first = treeOfState(state);
  const order = first ? [first, ...RECORDING_TREES.filter((t) => t !== first)] : [...RECORDING_TREES];
  const found: LocatedFormat[] = [];
  const missing: string[] = [];
  for (const format of new Set(formats)) {
    let hit: LocatedFormat | undefined;
    for (const tree of order) {
      const dir = recordingDir(tree, format, recordId);
      if ((await storage.stat(dir))?.isDirectory) {
        hit = { tree, format, dir };
        break;
      }
    }
    if (hit) found.push(hit);
    else missing.push(format);
  }
  return { found, missing };
}

/**
 * The recordings root a storage URL names. A URL naming the published tree
 * itself (`…/published`, how storage was configured before the other trees
 * were known) means its parent: the trees are its siblings.
 */
export function recordingsRootUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // openStorage explains what is wrong with it
  }
  const trimmed = u.pathname.replace(/\/+$/, '');
  if (!trimmed.endsWith('/published')) return url;
  u.pathname = trimmed.slice(0, -'/published'.length) || '/';
  return u.href;
}
