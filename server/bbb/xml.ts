// BBB speaks XML: every API call answers `<response><returncode>…`, and recordings are
// described by metadata.xml files. Values stay strings (meeting ids, voice bridges and
// create times look numeric but are identifiers); attributes are keys prefixed with '@_'.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export interface XmlObject {
  [key: string]: XmlNode;
}
export type XmlNode = string | XmlObject | XmlNode[];

export type XmlInput = string | number | boolean | undefined | readonly XmlInput[] | { readonly [key: string]: XmlInput };

export class XmlError extends Error {
  override name = 'XmlError';
}

// Elements that repeat inside a <response>; always arrays, even when there is one.
const RESPONSE_LISTS = [
  'meetings.meeting',
  'recordings.recording',
  'attendees.attendee',
  'playback.format',
  'images.image',
  'breakoutRooms.breakout',
  'breakoutRooms.breakoutRoom',
];

const common = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  // Callbacks get the parser's path matcher, not its path as text: with text, the parser
  // spelled the path of every element and text node (4 % of the gateway's CPU under getMeetings, 0.6 % now).
  jPath: false,
} as const;
/** The last names of RESPONSE_LISTS: only elements so named have their path looked at. */
const LIST_TAGS = new Set(RESPONSE_LISTS.map((s) => s.slice(s.lastIndexOf('.') + 1)));

const plainParser = new XMLParser(common);
const responseParser = new XMLParser({
  ...common,
  isArray: (tag, path, _leaf, isAttribute) => {
    if (isAttribute || !LIST_TAGS.has(tag)) return false;
    const jPath = String(path);
    return jPath.startsWith('response.') && RESPONSE_LISTS.some((s) => jPath.endsWith(`.${s}`));
  },
});
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });

/** Parses any XML document (metadata.xml, a presentation module body) into plain objects. */
export function parseXml(text: string): XmlObject {
  try {
    const parsed: unknown = plainParser.parse(text, true);
    if (isObject(parsed)) return parsed;
  } catch (err) {
    throw new XmlError('invalid XML', { cause: err });
  }
  throw new XmlError('invalid XML');
}

/** Parses a BBB API answer and returns the content of its <response> element. */
export function parseResponse(text: string): XmlObject {
  let parsed: unknown;
  try {
    parsed = responseParser.parse(text, true);
  } catch (err) {
    throw new XmlError('not a BBB API response', { cause: err });
  }
  const response = isObject(parsed) ? parsed['response'] : undefined;
  if (!isObject(response) || typeof response['returncode'] !== 'string') {
    throw new XmlError('not a BBB API response');
  }
  return response;
}

export function buildXml(root: { readonly [key: string]: XmlInput }): string {
  return builder.build(root) as string;
}

export type ResponseBody = { readonly returncode: 'SUCCESS' | 'FAILED' } & { readonly [key: string]: XmlInput };

/** BBB-style answer; returncode always comes first, like bbb-web's templates. */
export function buildResponse(body: ResponseBody): string {
  const { returncode, ...rest } = body;
  return buildXml({ response: { returncode, ...rest } });
}

export function failedResponse(messageKey: string, message: string): string {
  return buildResponse({ returncode: 'FAILED', messageKey, message });
}

export function isObject(node: unknown): node is XmlObject {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

/** Text of a child element (or of an attribute when key is '@_name'); undefined if absent. */
export function text(node: XmlNode | undefined, key: string): string | undefined {
  if (!isObject(node)) return undefined;
  const value = node[key];
  if (typeof value === 'string') return value;
  if (isObject(value)) return typeof value['#text'] === 'string' ? value['#text'] : '';
  return undefined;
}

/** Child elements named key, as a list whether there are none, one or many. */
export function children(node: XmlNode | undefined, key: string): XmlObject[] {
  if (!isObject(node)) return [];
  const value = node[key];
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.map((item) => (isObject(item) ? item : { '#text': typeof item === 'string' ? item : '' }));
}

/** A flat element such as <metadata> or <meta> as a name → text map. */
export function entries(node: XmlNode | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(node)) return out;
  for (const key of Object.keys(node)) {
    if (key.startsWith('@_') || key === '#text') continue;
    out[key] = text(node, key) ?? '';
  }
  return out;
}
