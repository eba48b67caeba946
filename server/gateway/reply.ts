// What the gateway answers, as plain data: a status, a few headers and the whole body.
// routes.ts makes it the HTTP response once; on the way the metrics read the XML text
// as it is, with no Response built, read back and built again per call.

export interface Reply {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  /** text for XML answers (what the gateway reads and builds); the cluster's bytes otherwise */
  body: string | Buffer;
  /** the answer of the gateway of the instance a moved tenancy went to (server/forwarding) */
  forwarded?: true;
}

const XML_TYPE = 'text/xml;charset=UTF-8';

export const xmlReply = (body: string, status = 200): Reply => ({ status, headers: { 'content-type': XML_TYPE }, body });

export const isXml = (reply: Reply): boolean => /xml/.test(reply.headers['content-type'] ?? '');

/** The body as text (an XML answer's already is). */
export const replyText = (reply: Reply): string => (typeof reply.body === 'string' ? reply.body : reply.body.toString('utf8'));
