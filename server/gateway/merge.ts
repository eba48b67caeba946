// Reading clusters' answers and merging several into one, for a tenancy whose
// meetings or recordings are on more than one cluster of its co-op.
import { parseResponse, text, XmlError, type XmlObject } from '../bbb/xml.js';
import type { QueryPart } from './query.js';
import { replyText, type Reply } from './reply.js';

export interface Answer {
  /** the answer, still to be passed on */
  response: Reply;
  /** the <response> element, when the body is a BBB answer */
  parsed?: XmlObject;
  succeeded: boolean;
  /** messageKey of a FAILED answer */
  failedKey?: string;
}

/** Reads a cluster's answer (a redirect or another status is passed on unread). */
export function readAnswer(response: Reply): Answer {
  if (response.status !== 200) return { response, succeeded: false };
  const body = replyText(response);
  let parsed: XmlObject;
  try {
    parsed = parseResponse(body);
  } catch (err) {
    if (err instanceof XmlError) return { response, succeeded: false };
    throw err;
  }
  const code = text(parsed, 'returncode');
  return code === 'FAILED' ? { response, parsed, succeeded: false, failedKey: text(parsed, 'messageKey') ?? '' } : { response, parsed, succeeded: code === 'SUCCESS' };
}

/**
 * Checksums are compared as lower-case hex, as Scalelite does (secure_compare with
 * hexdigest) and bbb-web did up to 2.5 (String.equals with DigestUtils' hex). bbb-web
 * 2.6 and later compare ignoring case; every BBB client library writes lower case.
 */
export const isLowerHex = (sum: string): boolean => /^[0-9a-f]+$/.test(sum);

export const withoutParams = (parts: readonly QueryPart[], names: readonly string[]): QueryPart[] => parts.filter((p) => !names.includes(p.key));

/** The first list's entry wins when two clusters know the same id (the current cluster comes first). */
function unique(lists: readonly XmlObject[][], idKey: string): XmlObject[] {
  const seen = new Set<string>();
  const out: XmlObject[] = [];
  for (const item of lists.flat()) {
    const id = text(item, idKey) ?? '';
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(item);
  }
  return out;
}

export const mergeMeetings = (lists: readonly XmlObject[][]): XmlObject[] => unique(lists, 'meetingID');

/**
 * Recordings of several clusters as one BBB answer: ordered by start time like bbb-web
 * lists them, then offset and limit (at most 100) applied as bbb-web applies them.
 */
export function mergeRecordings(lists: readonly XmlObject[][], page: { offset?: string | undefined; limit?: string | undefined }): XmlObject[] {
  const start = (r: XmlObject) => Number(text(r, 'startTime') ?? 0) || 0;
  const all = unique(lists, 'recordID').sort((a, b) => start(a) - start(b) || (text(a, 'recordID') ?? '').localeCompare(text(b, 'recordID') ?? ''));
  const offset = Math.max(0, Number.parseInt(page.offset ?? '0', 10) || 0);
  const limit = Number.parseInt(page.limit ?? '', 10);
  return all.slice(offset, limit >= 1 ? offset + Math.min(limit, 100) : undefined);
}
