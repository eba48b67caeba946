// Small builders for the objects most tests need, created through the API as
// a client would.
import type { TestServer } from './server.js';

let n = 0;
const uniq = () => `${Date.now().toString(36)}${(n++).toString(36)}`;

export async function createCoop(s: TestServer, over: Record<string, unknown> = {}) {
  const res = await s.api('POST', '/api/v1/coops', {
    body: { slug: `coop-${uniq()}`, name: 'North Co-op', jurisdiction: 'DE', contactEmail: 'ops@north.example', legalRegime: 'eu_gdpr', ...over },
  });
  if (res.status !== 201) throw new Error(`createCoop: ${res.status} ${res.text}`);
  return res.json as { id: string; slug: string; version: number };
}

export async function createCluster(s: TestServer, coop: string, over: Record<string, unknown> = {}) {
  const res = await s.api('POST', '/api/v1/clusters', {
    body: { coop, name: `bbb-${uniq()}`, apiUrl: 'https://bbb.north.example/bigbluebutton/api', secret: 'cluster-secret-0123456789', country: 'DE', capacity: 500, ...over },
  });
  if (res.status !== 201) throw new Error(`createCluster: ${res.status} ${res.text}`);
  return res.json as { id: string; coopId: string; slug: string };
}

export async function createTenancy(s: TestServer, coop: string, cluster: string, over: Record<string, unknown> = {}) {
  const res = await s.api('POST', '/api/v1/tenancies', { body: { slug: `t-${uniq()}`, name: 'School', coop, cluster, ...over } });
  if (res.status !== 201) throw new Error(`createTenancy: ${res.status} ${res.text}`);
  return res.json as { id: string; slug: string; bbbSecret: string };
}

/** A non-admin account of `coop` with its own access token. */
export async function memberWithToken(s: TestServer, coop: string) {
  const acc = await s.api('POST', '/api/v1/accounts', { body: { email: `m-${uniq()}@example.org`, name: 'Member', coop } });
  if (acc.status !== 201) throw new Error(`account: ${acc.status} ${acc.text}`);
  const { issueToken } = await import('../../server/accounts/service.js');
  const { LOCAL_OPERATOR } = await import('../../server/auth/principal.js');
  const { token } = await issueToken(s.database.db, LOCAL_OPERATOR, acc.json.id, 'test', null);
  return { accountId: acc.json.id as string, token };
}

/** Entries in the log, read as every reader does: after sequencing what committed (the read barrier). */
export async function auditCount(s: TestServer): Promise<number> {
  const { sql } = await import('drizzle-orm');
  const { rowsOf } = await import('../../server/db/index.js');
  const { sequenceAudit } = await import('../../server/audit/sequencer.js');
  await sequenceAudit(s.database.db);
  const [row] = rowsOf<{ n: number }>(await s.database.db.execute(sql`select count(*)::int as n from audit_entries`));
  return Number(row?.n ?? 0);
}

/**
 * An account of `coop` holding a coop_admin grant on it (delegated from the
 * platform admin's; it approves transfers unless `transferApproval` is false), with a token.
 */
export async function coopAdminWithToken(s: TestServer, coop: string, opts: { transferApproval?: boolean; expiresAt?: Date } = {}) {
  const who = await memberWithToken(s, coop);
  const [root] = (await s.api('GET', '/api/v1/grants?active=true')).json.items;
  const coopId = (await s.api('GET', `/api/v1/coops/${coop}`)).json.id;
  const res = await s.api('POST', '/api/v1/grants', {
    body: {
      from: root.id,
      account: who.accountId,
      role: 'coop_admin',
      scope: { type: 'coop', id: coopId },
      transferApproval: opts.transferApproval ?? true,
      expiresAt: (opts.expiresAt ?? new Date(Date.now() + 86_400_000)).toISOString(),
      reason: 'runs the co-op',
    },
  });
  if (res.status !== 201) throw new Error(`coop admin grant: ${res.status} ${res.text}`);
  return who;
}
