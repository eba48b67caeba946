// What tests of transfers do as every client must: act on a transfer with the
// ETag it last read (If-Match), and get its notices to the members (through a
// real SMTP server, so the notice period counts from delivery).
import type { Db } from '../../server/db/index.js';
import { deliverDue, smtpTransport } from '../../server/mail/outbox.js';
import { createLogger } from '../../server/logger.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';
import type { TestServer } from './server.js';

type Api = Pick<TestServer, 'api'>;

/** The transfer's current ETag, read as the platform admin (a refused actor must still be refused for its own reasons). */
export async function transferEtag(s: Api, id: string): Promise<string> {
  return (await s.api('GET', `/api/v1/transfers/${id}`)).headers.get('etag') ?? '';
}

/** POST /transfers/{id}/{action} with the transfer's current ETag as If-Match. */
export async function transferAction(s: Api, id: string, action: string, opts: { token?: string | null; body?: unknown } = {}) {
  return s.api('POST', `/api/v1/transfers/${id}/${action}`, { ...opts, headers: { 'if-match': await transferEtag(s, id) } });
}

/**
 * Delivers every due mail of the outbox to an SMTP server (one started for the
 * call unless given), as the mail job does; returns how many were accepted.
 */
export async function deliverOutbox(db: Db, sink?: SmtpSink): Promise<number> {
  const server = sink ?? (await startSmtpSink());
  const transport = smtpTransport(server.url);
  const log = createLogger('silent');
  let sent = 0;
  try {
    for (let r = await deliverDue(db, transport, 'meetplane@test.example', log); r.sent + r.failed > 0; r = await deliverDue(db, transport, 'meetplane@test.example', log)) sent += r.sent;
  } finally {
    transport.close();
    if (!sink) await server.close();
  }
  return sent;
}
