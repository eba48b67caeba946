// Storage paths come from inventories, manifests and peers: never trust them to
// stay inside the root. Everything is checked here, once, for every backend.
import { UnsafePathError } from './types.js';

/**
 * Normalises a relative POSIX path ('a//b/./c' -> 'a/b/c') and refuses anything
 * that could leave the root: absolute paths, '..' segments, backslashes, NUL.
 * '' (the root itself) only when `allowRoot`.
 */
export function safePath(path: string, { allowRoot = false } = {}): string {
  if (typeof path !== 'string') throw new UnsafePathError(String(path), 'not a string');
  if (path.includes('\0')) throw new UnsafePathError(path, 'contains a NUL byte');
  if (path.includes('\\')) throw new UnsafePathError(path, 'contains a backslash');
  if (path.startsWith('/')) throw new UnsafePathError(path, 'absolute paths are not allowed, give a path relative to the storage root');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafePathError(path, '".." is not allowed');
    parts.push(part);
  }
  const clean = parts.join('/');
  if (clean === '' && !allowRoot) throw new UnsafePathError(path, 'names the storage root, not a file in it');
  return clean;
}

/** The parent directory of a clean path ('' for a top-level name). */
export function parentOf(clean: string): string {
  const i = clean.lastIndexOf('/');
  return i < 0 ? '' : clean.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** A sibling name for an atomic replace: unique per process and call. */
let tmpCounter = 0;
export function tempSibling(clean: string): string {
  return `${clean}.tmp-${process.pid}-${Date.now().toString(36)}-${(tmpCounter++).toString(36)}`;
}
