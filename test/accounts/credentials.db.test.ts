// Local log-in, passwords and invitation links (server/accounts/credentials.ts
// and the counters of throttle.ts), called as the sign-on pages call them, on a
// real database: what a member typing their address and password gets, what a
// lock-out holds and releases, what setting a password changes and records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { startTestServer, type TestServer } from '../support/server.js';
import { createCoop } from '../support/fixtures.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { accounts } from '../../server/accounts/table.js';
import { accountCredentials, accountInvitations, loginThrottle } from '../../server/accounts/sso-table.js';
import { authenticate, createInvitation, emailVerified, findInvitation, setPassword, type LoginSettings } from '../../server/accounts/credentials.js';
import { emailKey, ipKey, lockedUntil } from '../../server/accounts/throttle.js';
import { hashPassword, parseHash, verifyPassword } from '../../server/accounts/passwords.js';
import { ProblemError } from '../../server/http/problem.js';

let s: TestServer;
let coop: string;
let n = 0;
const PASSWORD = 'correct horse battery staple';
const scrypt = { ln: 12, r: 8, p: 1 };
const settings: LoginSettings = { scrypt, throttle: { maxPerAccountAndAddress: 3, maxPerAddress: 50, maxPerAccount: 5, windowSeconds: 600 } };
const freshIp = () => `198.51.100.${(n++ % 250) + 1}`;

beforeAll(async () => {
  s = await startTestServer({ WORKER: 'off' });
  coop = (await createCoop(s)).id;
});
afterAll(async () => s?.stop());

/** A member of the co-op with no password yet. */
async function account(): Promise<{ id: string; email: string }> {
  const email = `mia-${Date.now().toString(36)}-${n++}@example.org`;
  const res = await s.api('POST', '/api/v1/accounts', { body: { email, name: 'Mia', coop } });
  expect(res.status, res.text).toBe(201);
  return { id: res.json.id, email };
}
async function withPassword() {
  const a = await account();
  await setPassword(s.database.db, LOCAL_OPERATOR, a.id, PASSWORD, scrypt);
  return a;
}
const storedHash = async (id: string) => (await s.database.db.select().from(accountCredentials).where(eq(accountCredentials.accountId, id)))[0]?.passwordHash;
const auditOf = async (accountId: string, action: string) =>
  (await s.api('GET', `/api/v1/audit/entries?subjectType=account&subject=${accountId}&action=${action}&limit=100`)).json.items.map((e: { json: Record<string, unknown> }) => e.json);
async function problemOf(p: Promise<unknown>): Promise<ProblemError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProblemError);
  return err as ProblemError;
}

describe('logging in', () => {
  it('takes the address however it is typed: spaces around it, capitals', async () => {
    const a = await withPassword();
    expect(await authenticate(s.database.db, settings, `  ${a.email.toUpperCase()} `, PASSWORD, freshIp())).toEqual({ kind: 'ok', accountId: a.id });
  });

  it('tells a suspended account so only to whoever knows its password', async () => {
    const a = await withPassword();
    await s.database.db.update(accounts).set({ suspendedAt: new Date() }).where(eq(accounts.id, a.id));
    expect(await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp())).toEqual({ kind: 'suspended' });
    expect(await authenticate(s.database.db, settings, a.email, 'not the password at all', freshIp())).toEqual({ kind: 'invalid' });
  });

  it('re-hashes a password stored under older scrypt parameters at the next log-in, and leaves a current one alone', async () => {
    const a = await account();
    const old = await hashPassword(PASSWORD, { ln: 10, r: 8, p: 1 });
    await s.database.db.insert(accountCredentials).values({ accountId: a.id, passwordHash: old, updatedAt: new Date() });
    expect((await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp())).kind).toBe('ok');
    const upgraded = (await storedHash(a.id))!;
    expect(parseHash(upgraded)!.params).toEqual(scrypt);
    expect(await verifyPassword(PASSWORD, upgraded)).toBe(true);
    // Current parameters: the stored hash is kept as it is.
    expect((await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp())).kind).toBe('ok');
    expect(await storedHash(a.id)).toBe(upgraded);
  });

  it('forgets the account\'s failures at a successful log-in: only consecutive failures lock it', async () => {
    const a = await withPassword();
    // maxPerAccount is 5; each failure from a new address so no address locks.
    for (let i = 0; i < 4; i++) expect((await authenticate(s.database.db, settings, a.email, 'wrong wrong wrong', freshIp())).kind).toBe('invalid');
    expect((await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp())).kind).toBe('ok');
    for (let i = 0; i < 4; i++) expect((await authenticate(s.database.db, settings, a.email, 'wrong wrong wrong', freshIp())).kind).toBe('invalid');
    expect((await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp())).kind).toBe('ok');
    // The fifth in a row locks it, for the window's length.
    for (let i = 0; i < 5; i++) await authenticate(s.database.db, settings, a.email, 'wrong wrong wrong', freshIp());
    const locked = await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp());
    expect(locked.kind).toBe('locked');
    const until = (locked as { until: Date }).until.getTime() - Date.now();
    expect(until).toBeGreaterThan(590_000);
    expect(until).toBeLessThanOrEqual(600_000);
  });
});

describe('a lock-out', () => {
  const at = (ms: number) => new Date(Date.now() + ms);
  const lock = async (key: string, until: Date) =>
    s.database.db.insert(loginThrottle).values({ key, failures: 0, windowStart: new Date(), lockedUntil: until }).onConflictDoUpdate({ target: loginThrottle.key, set: { lockedUntil: until } });

  it('that has ended locks nothing; of several, the one that ends last is the answer', async () => {
    const [k1, k2, k3] = [emailKey(`x-${n++}@example.org`), ipKey(freshIp()), emailKey(`y-${n++}@example.org`)];
    await lock(k1, at(-1_000));
    expect(await lockedUntil(s.database.db, [k1])).toBeNull();
    const soon = at(60_000);
    const later = at(120_000);
    // The one ending sooner is stored first: the answer must not be whichever row comes first.
    await lock(k3, soon);
    await lock(k2, later);
    expect((await lockedUntil(s.database.db, [k1, k2, k3]))!.getTime()).toBe(later.getTime());
    expect((await lockedUntil(s.database.db, [k3, k2, k1]))!.getTime()).toBe(later.getTime());
    expect((await lockedUntil(s.database.db, [k1, k3]))!.getTime()).toBe(soon.getTime());
  });

  it('ending exactly now no longer locks', async () => {
    const key = ipKey(freshIp());
    const now = new Date();
    await lock(key, now);
    expect(await lockedUntil(s.database.db, [key], now)).toBeNull();
    expect(await lockedUntil(s.database.db, [key], new Date(now.getTime() - 1))).toEqual(now);
  });
});

describe('setting a password', () => {
  it('refuses one the rules refuse, naming the password field, and an account that does not exist', async () => {
    const a = await account();
    const weak = await problemOf(setPassword(s.database.db, LOCAL_OPERATOR, a.id, 'short', scrypt));
    expect(weak.status).toBe(400);
    expect(weak.extensions.errors).toEqual([{ path: 'password', message: expect.stringMatching(/\d+/) }]);
    expect(await storedHash(a.id)).toBeUndefined();
    const nobody = await problemOf(setPassword(s.database.db, LOCAL_OPERATOR, '00000000-0000-4000-8000-000000000000', PASSWORD, scrypt));
    expect(nobody.status).toBe(404);
    expect(nobody.message).toContain('account');
  });

  it('ends every session held under the old password, marks the address proven when told, and is audited', async () => {
    const a = await withPassword();
    expect(await emailVerified(s.database.db, a.id)).toBe(false);
    const before = new Date();
    await setPassword(s.database.db, LOCAL_OPERATOR, a.id, 'another long passphrase', scrypt, { verified: true });
    const [row] = await s.database.db.select({ after: accounts.sessionsValidAfter }).from(accounts).where(eq(accounts.id, a.id));
    expect(row!.after!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 5);
    expect(await emailVerified(s.database.db, a.id)).toBe(true);
    expect((await authenticate(s.database.db, settings, a.email, 'another long passphrase', freshIp())).kind).toBe('ok');
    const entries = await auditOf(a.id, 'account.set-password');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ action: 'account.set-password', subject: { type: 'account' }, outcome: 'success' });
  });
});

describe('an invitation link', () => {
  it('is a token shown once, valid for the time given, found by exactly that token, and audited', async () => {
    const a = await account();
    const before = Date.now();
    const inv = await createInvitation(s.database.db, LOCAL_OPERATOR, a.id, 3600);
    expect(inv.token).toMatch(/^mp_inv_[A-Za-z0-9_-]{43}$/);
    expect(inv.expiresAt.getTime() - before).toBeGreaterThanOrEqual(3_600_000 - 5);
    expect(inv.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(await findInvitation(s.database.db, inv.token)).toMatchObject({ id: inv.id, accountId: a.id, email: a.email });
    for (const other of [inv.token.slice(0, -1), `${inv.token}x`, `x${inv.token}`, inv.token.replace('mp_inv_', 'mp_pat_')]) expect(await findInvitation(s.database.db, other), other).toBeUndefined();
    // Only its hash is stored.
    const [stored] = await s.database.db.select().from(accountInvitations).where(eq(accountInvitations.id, inv.id));
    expect(stored!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(inv.token.slice(7));
    const [entry] = await auditOf(a.id, 'account.invite');
    expect(entry).toMatchObject({ action: 'account.invite', subject: { type: 'account' }, details: { invitation: inv.id, expiresAt: inv.expiresAt.toISOString() } });
  });

  it('sets a password once: used again, it is refused and the first password stays', async () => {
    const a = await account();
    const inv = await createInvitation(s.database.db, LOCAL_OPERATOR, a.id, 3600);
    await setPassword(s.database.db, LOCAL_OPERATOR, a.id, PASSWORD, scrypt, { invitationId: inv.id, verified: true });
    expect(await findInvitation(s.database.db, inv.token)).toBeUndefined();
    const again = await problemOf(setPassword(s.database.db, LOCAL_OPERATOR, a.id, 'a different passphrase', scrypt, { invitationId: inv.id }));
    expect(again.status).toBe(409);
    expect(again.problemType).toBe('invitation-used');
    expect(again.message).toMatch(/used already/);
    expect((await authenticate(s.database.db, settings, a.email, PASSWORD, freshIp())).kind).toBe('ok');
    const [entry] = await auditOf(a.id, 'account.set-password');
    expect(entry).toMatchObject({ details: { invitation: inv.id } });
  });

  it('is not found once it expired', async () => {
    const a = await account();
    const inv = await createInvitation(s.database.db, LOCAL_OPERATOR, a.id, 1);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await findInvitation(s.database.db, inv.token)).toBeUndefined();
  });
});
