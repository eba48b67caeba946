// The right to erasure: after POST /accounts/{id}/erase no table holds the
// person's name or e-mail address any more (every row of every table is read
// as text, as the secrets test does, and the audit entries' bytes too), their
// audit pseudonym key is gone, and `meetplane audit verify --full` still
// passes. Refused, with the reason, while they are the only owner of a
// tenancy or the last platform admin, and to whoever does not hold every role
// they hold.
import { sequenceAudit } from '../../server/audit/sequencer.js';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { coopAdminWithToken, createCluster, createCoop, createTenancy, memberWithToken } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';
import { rowsOf } from '../../server/db/index.js';
import { setMembership } from '../../server/accounts/service.js';
import { setPassword } from '../../server/accounts/credentials.js';
import { recordFailure, emailKey } from '../../server/accounts/throttle.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';

let s: TestServer;
let root: string;
beforeAll(async () => {
  s = await startTestServer();
  root = (await s.api('GET', '/api/v1/grants?active=true')).json.items[0].id;
});
afterAll(async () => {
  await s?.stop();
});

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

async function erase(accountId: string, token?: string) {
  const etag = (await s.api('GET', `/api/v1/accounts/${accountId}`)).headers.get('etag') ?? '';
  return s.api('POST', `/api/v1/accounts/${accountId}/erase`, { token, body: { reason: 'asked to be forgotten' }, headers: { 'if-match': etag } });
}

/** Every row of every table as text, and every audit entry's bytes. */
async function everything(): Promise<string> {
  const db = s.database.db;
  await sequenceAudit(db); // every entry in the log, as an auditor would read it
  const tables = rowsOf<{ t: string }>(await db.execute(sql`select tablename as t from pg_tables where schemaname = 'public'`)).map((r) => r.t);
  expect(tables.length).toBeGreaterThan(20);
  let dump = '';
  for (const t of tables) dump += rowsOf<{ j: string }>(await db.execute(sql.raw(`select row_to_json(x)::text as j from "${t}" x`))).map((r) => r.j).join('\n') + '\n';
  dump += rowsOf<{ e: string }>(await db.execute(sql`select convert_from(entry, 'UTF8') as e from audit_entries`)).map((r) => r.e).join('\n');
  return dump.toLowerCase();
}

describe('erasing a person', () => {
  it('leaves no trace of the name or e-mail in any table, and the audit log still verifies', async () => {
    const NAME = 'Zelda Erasmus-Quintero';
    const EMAIL = `zelda.erasmus.${Date.now().toString(36)}@example.org`;
    const coop = await createCoop(s);
    const cluster = await createCluster(s, coop.id);
    const tenancy = await createTenancy(s, coop.id, cluster.id);
    const other = await createTenancy(s, coop.id, cluster.id);
    const created = await s.api('POST', '/api/v1/accounts', { body: { email: EMAIL, name: NAME, coop: coop.id } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    // Everything a person leaves behind: a password, a password-set link, a token, a grant, a membership,
    // an invitation to another tenancy (with its mail), an upstream identity link, failed log-ins.
    await setPassword(s.database.db, LOCAL_OPERATOR, id, 'correct horse battery staple', { ln: 14, r: 8, p: 1 }, { verified: true });
    expect((await s.api('POST', `/api/v1/accounts/${id}/invitations`, { body: {} })).status).toBe(201);
    const { issueToken } = await import('../../server/accounts/service.js');
    const pat = await issueToken(s.database.db, LOCAL_OPERATOR, id, `${NAME}'s laptop`, null);
    expect((await s.api('POST', '/api/v1/grants', { body: { from: root, account: id, role: 'tenancy_admin', scope: { type: 'tenancy', id: tenancy.id }, reason: 'runs the school', expiresAt: inDays(30) } })).status).toBe(201);
    await setMembership(s.database.db, LOCAL_OPERATOR, tenancy.id, id, 'member');
    expect((await s.api('POST', `/api/v1/tenancies/${other.id}/member-invitations`, { body: { email: EMAIL, role: 'member' } })).status).toBe(202);
    await s.database.db.execute(sql`insert into account_identities (issuer, subject, account_id) values ('https://idp.north.example', ${EMAIL}, ${id})`);
    await recordFailure(s.database.db, emailKey(EMAIL), 10, 900);
    await recordFailure(s.database.db, `${emailKey(EMAIL)}|ip:127.0.0.1`, 10, 900);

    const before = await everything();
    expect(before).toContain(NAME.toLowerCase()); // the scan sees what is there
    expect(before).toContain(EMAIL);
    expect(before).toContain(emailKey(EMAIL));

    const res = await erase(id);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ account: id, erasedAt: expect.any(String), auditPseudonymKeyDestroyed: true, membershipsEnded: [tenancy.id] });
    expect(res.json.deleted).toMatchObject({ passwordAndVerification: 1, upstreamLinks: 1, passwordLinks: 1, accessTokens: 1, memberInvitations: 1, loginCounters: 2 });
    expect(res.json.grantsRevoked).toHaveLength(1);
    expect(res.json.deleted.mails).toBeGreaterThanOrEqual(1); // the invitation's mail: address and text gone

    const after = await everything();
    expect(after).not.toContain(NAME.toLowerCase());
    expect(after).not.toContain(EMAIL);
    expect(after).not.toContain(EMAIL.split('@')[0]);
    expect(after).not.toContain(emailKey(EMAIL));
    expect(after).not.toContain(createHash('sha256').update(pat.token).digest('hex'));
    // What is kept: the row with tombstones, and nothing that links the log to the person.
    const account = (await s.api('GET', `/api/v1/accounts/${id}`)).json;
    expect(account).toMatchObject({ email: `erased:${id}`, name: 'Erased account', erasedAt: expect.any(String), suspendedAt: expect.any(String) });
    expect(rowsOf(await s.database.db.execute(sql`select 1 from audit_subject_keys where account_id = ${id}`))).toHaveLength(0);
    expect((await s.api('GET', '/api/v1/tokens', { token: pat.token })).status).toBe(401);
    // Erased is final: a second erasure, a reinstatement are refused.
    expect((await erase(id)).status).toBe(409);

    // An auditor's full verification still passes.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-erase-'));
    const env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken, MEETPLANE_CONFIG: path.join(dir, 'config.json'), MEETPLANE_AUDIT_STATE: path.join(dir, 'state.json') };
    expect((await runCli(['audit', 'trust'], env)).code).toBe(0);
    const verify = await runCli(['audit', 'verify', '--full'], env);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^OK: /);
  }, 120_000);

  it('lets the person erase themselves with their own token', async () => {
    const coop = await createCoop(s);
    const me = await memberWithToken(s, coop.id);
    const res = await erase(me.accountId, me.token);
    expect(res.status, res.text).toBe(200);
    expect((await s.api('GET', '/api/v1/tokens', { token: me.token })).status).toBe(401);
  });
});

describe('erasure refused, with the reason', () => {
  it('while the person is the only owner of a tenancy', async () => {
    const coop = await createCoop(s);
    const tenancy = await createTenancy(s, coop.id, (await createCluster(s, coop.id)).id);
    const owner = await memberWithToken(s, coop.id);
    await setMembership(s.database.db, LOCAL_OPERATOR, tenancy.id, owner.accountId, 'owner');
    const res = await erase(owner.accountId);
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/only-owner$/);
    expect(res.json.detail).toContain(tenancy.slug);
    expect(res.json.tenancies).toEqual([{ id: tenancy.id, slug: tenancy.slug }]);
    expect((await s.api('GET', `/api/v1/accounts/${owner.accountId}`)).json.erasedAt).toBeNull();
    // With a second owner, it goes through.
    const second = await memberWithToken(s, coop.id);
    await setMembership(s.database.db, LOCAL_OPERATOR, tenancy.id, second.accountId, 'owner');
    expect((await erase(owner.accountId)).status).toBe(200);
  });

  it('for the last platform admin', async () => {
    const me = (await s.api('GET', '/api/v1/me')).json;
    const res = await erase(me.accountId);
    expect(res.status).toBe(409);
    expect(res.json.type).toMatch(/last-platform-admin$/);
    expect(res.json.detail).toContain('last platform admin');
  });

  it('to a co-op admin when the person holds a role the admin does not', async () => {
    const coopA = await createCoop(s);
    const coopB = await createCoop(s);
    const admin = await coopAdminWithToken(s, coopA.id);
    const person = await memberWithToken(s, coopA.id);
    expect((await s.api('POST', '/api/v1/grants', { body: { from: root, account: person.accountId, role: 'coop_admin', scope: { type: 'coop', id: coopB.id }, reason: 'runs B', expiresAt: inDays(30) } })).status).toBe(201);
    const res = await erase(person.accountId, admin.token);
    expect(res.status, res.text).toBe(403);
    expect(res.json.policyIds).toContain('account-takeover-needs-every-role');
    expect((await s.api('GET', `/api/v1/accounts/${person.accountId}`)).json.erasedAt).toBeNull();
    // A member of their co-op holding nothing else: theirs to erase.
    const plain = await memberWithToken(s, coopA.id);
    expect((await erase(plain.accountId, admin.token)).status).toBe(200);
  });
});
