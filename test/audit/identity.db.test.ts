// The audit log's origin and key belong to the log, not to PUBLIC_URL: a
// restart under another public URL keeps both, an existing log keeps the key of
// its newest checkpoint, and the only way to change them is an announced
// rotation that auditors who pinned the old key follow with `audit verify`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { startServer, type Running } from '../../server/main.js';
import { openPglite, type Database } from '../../server/db/index.js';
import { bootstrapAdmin } from '../../server/accounts/service.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { SecretBox } from '../../server/crypto/secretbox.js';
import { appendAudit } from '../../server/audit/trail.js';
import { signCheckpoint } from '../../server/audit/checkpoints.js';
import { generateNoteKey, openNote } from '../../server/audit/note.js';
import { auditKeys } from '../../server/audit/table.js';
import { activeLogKeyRow, lockLog, retireLogKey, storeLogKey } from '../../server/audit/log-keys.js';
import { runCli } from '../support/cli.js';
import { backend, freshDatabase } from '../support/db.js';
import { inject } from 'vitest';

/** One database that outlives server restarts (and that the CLI can open while no server holds it, on PGlite). */
async function persistentStore() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-identity-'));
  const masterKey = randomBytes(32).toString('base64');
  if (backend() === 'pglite') {
    const dir = path.join(dataDir, 'pglite'); // where `meetplane` opens it from DATA_DIR
    await (await openPglite(dir, new Blob([readFileSync(inject('pgliteDump'))]))).close();
    return { dataDir, masterKey, env: { DATA_DIR: dataDir, MASTER_KEY: masterKey }, open: () => openPglite(dir), destroy: async () => {} };
  }
  const base = await freshDatabase();
  return {
    dataDir,
    masterKey,
    env: { DATA_DIR: dataDir, MASTER_KEY: masterKey, DATABASE_URL: base.url! },
    open: async (): Promise<Database> => ({ ...base, close: async () => {} }),
    destroy: () => base.close(),
  };
}
type Store = Awaited<ReturnType<typeof persistentStore>>;

const quiet = () => createLogger('warn', new Writable({ write: (_c, _e, done) => done() }));

/** `prepare` runs on the migrated database before the server starts (what an older version left there). */
type Prepare = (db: Database, box: SecretBox) => Promise<void>;

async function start(store: Store, publicUrl: string, prepare?: Prepare) {
  const database = await store.open();
  await database.migrate();
  await prepare?.(database, new SecretBox(Buffer.from(store.masterKey, 'base64')));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: store.dataDir, MASTER_KEY: store.masterKey, PUBLIC_URL: publicUrl, LOG_LEVEL: 'warn' });
  const running: Running = await startServer(config, quiet(), database);
  return running;
}

interface Instance {
  running: Running;
  token: string;
  api(method: string, p: string, body?: unknown): Promise<{ status: number; text: string; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  coop(): Promise<void>;
  cli(...args: string[]): ReturnType<typeof runCli>;
}

let seq = 0;
function instance(running: Running, token: string, store: Store, auditor: string): Instance {
  const api: Instance['api'] = async (method, p, body) => {
    const res = await fetch(running.url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
  return {
    running,
    token,
    api,
    async coop() {
      const res = await api('POST', '/api/v1/coops', {
        slug: `id-${Date.now().toString(36)}-${seq++}`,
        name: 'Coop',
        jurisdiction: 'DE',
        contactEmail: 'ops@coop.example',
        legalRegime: 'eu_gdpr',
      });
      expect(res.status).toBe(201);
    },
    cli: (...args) =>
      runCli(args, {
        MEETPLANE_URL: running.url,
        MEETPLANE_TOKEN: token,
        MEETPLANE_CONFIG: path.join(auditor, 'config.json'),
        MEETPLANE_AUDIT_STATE: path.join(auditor, 'state.json'),
      }),
  };
}

/** Server restarts and CLI runs: several seconds each on a busy machine. */
const SLOW = 120_000;

const auditorDir = () => mkdtempSync(path.join(os.tmpdir(), 'meetplane-auditor-'));
const firstLine = (note: string) => note.slice(0, note.indexOf('\n'));
const signatureLines = (note: string) => note.split('\n').filter((l) => l.startsWith('\u2014 '));

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function firstStart(publicUrl: string, prepare?: Prepare) {
  const store = await persistentStore();
  cleanup.push(store.destroy);
  const running = await start(store, publicUrl, prepare);
  let current = running;
  cleanup.push(() => current.stop());
  const { token } = await bootstrapAdmin(running.database.db, LOCAL_OPERATOR, { email: 'root@platform.test', name: 'Root' });
  const auditor = auditorDir();
  return {
    store,
    auditor,
    first: instance(running, token, store, auditor),
    /** Stops the server and starts it again on the same database. */
    async restart(url: string, between?: () => Promise<void>) {
      await current.stop();
      await between?.();
      current = await start(store, url);
      return instance(current, token, store, auditor);
    },
  };
}

describe('the audit log keeps its origin and key when PUBLIC_URL changes', () => {
  it('restarted under another PUBLIC_URL, it publishes the same key and origin, and pinned verification continues', async () => {
    const { first: a, restart } = await firstStart('https://a.example/mp');
    await a.coop();
    await a.coop();
    const vkey = (await a.api('GET', '/api/v1/audit/key')).text.trim();
    expect(vkey).toMatch(/^a\.example\/mp\/audit\+[0-9a-f]{8}\+/);
    expect((await a.cli('audit', 'trust')).code).toBe(0);
    const before = await a.cli('--json', 'audit', 'verify');
    expect(before.stderr).toBe('');
    expect(JSON.parse(before.stdout)).toMatchObject({ ok: true, origin: 'a.example/mp/audit' });

    const b = await restart('https://b.example');
    expect((await b.api('GET', '/api/v1/audit/key')).text.trim()).toBe(vkey);
    await b.coop();
    const note = (await b.api('GET', '/api/v1/audit/checkpoint')).text;
    expect(firstLine(note)).toBe('a.example/mp/audit');
    expect(openNote(note, vkey).size).toBeGreaterThan(JSON.parse(before.stdout).size);

    const after = await b.cli('--json', 'audit', 'verify', '--full');
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, origin: 'a.example/mp/audit', previous: JSON.parse(before.stdout).size, rotations: [] });
    // The log was given its identity once, when it was created.
    const created = (await b.api('GET', '/api/v1/audit/entries?action=audit.key.create')).json.items;
    expect(created.map((e: { json: { details: unknown } }) => e.json.details)).toEqual([{ origin: 'a.example/mp/audit', vkey }]);
  }, SLOW);

  it('a log started before the identity was stored keeps the origin and key of its newest checkpoint', async () => {
    // What an existing installation holds: a key per PUBLIC_URL it ran under
    // (the newest one never signed anything) and checkpoints signed by the older.
    const legacyA = generateNoteKey('old.example/audit');
    const legacyB = generateNoteKey('new.example/audit');
    const { first: s } = await firstStart('https://new.example', async (database, box) => {
      await database.db.transaction(async (tx) => {
        await tx.insert(auditKeys).values({ name: legacyA.name, privateSealed: box.seal(legacyA.privateKey, 'audit-checkpoint-key'), publicKey: legacyA.publicKey, createdAt: new Date(Date.now() - 60_000) });
        for (const id of ['one', 'two', 'three']) await appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'coop.create', subject: { type: 'coop', id } });
        await signCheckpoint(tx, legacyA);
        await tx.insert(auditKeys).values({ name: legacyB.name, privateSealed: box.seal(legacyB.privateKey, 'audit-checkpoint-key'), publicKey: legacyB.publicKey });
      });
    });
    expect((await s.api('GET', '/api/v1/audit/key')).text.trim()).toBe(legacyA.vkey);
    await s.coop();
    const note = (await s.api('GET', '/api/v1/audit/checkpoint')).text;
    expect(openNote(note, legacyA.vkey)).toMatchObject({ origin: 'old.example/audit' });
    const adopted = (await s.api('GET', '/api/v1/audit/entries?action=audit.key.adopt')).json.items;
    expect(adopted.map((e: { json: { details: unknown } }) => e.json.details)).toEqual([{ origin: 'old.example/audit', vkey: legacyA.vkey, from: 'checkpoint at size 3' }]);
    const verify = await s.cli('--json', 'audit', 'verify', '--full', '--key', legacyA.vkey);
    expect(verify.stderr).toBe('');
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, origin: 'old.example/audit' });
  }, SLOW);
});

describe('rotating the log key', () => {
  it('announces the new key in the log; auditors who pinned the old key follow it, and so do those who pin the new one', async () => {
    const { first: a, store, restart, auditor } = await firstStart('https://a.example');
    await a.coop();
    const k1 = (await a.api('GET', '/api/v1/audit/key')).text.trim();
    expect((await a.cli('audit', 'trust')).code).toBe(0);
    expect((await a.cli('audit', 'verify')).code).toBe(0);

    const rotate = () => runCli(['audit', 'rotate-key', '--origin', 'b.example/audit'], { ...store.env, PUBLIC_URL: 'https://a.example' });
    let rotated: Awaited<ReturnType<typeof rotate>> | undefined;
    let s = a;
    // On PostgreSQL the operator rotates while the server runs; PGlite serves one process at a time.
    if (backend() === 'postgres') rotated = await rotate();
    else s = await restart('https://a.example', async () => void (rotated = await rotate()));
    expect(rotated!.stderr).toBe('');
    expect(rotated!.code).toBe(0);
    const k2 = (await s.api('GET', '/api/v1/audit/key')).text.trim();
    expect(k2).toMatch(/^b\.example\/audit\+[0-9a-f]{8}\+/);
    expect(rotated!.stdout).toContain(`new key: ${k2}`);

    // In the log: the announcement, under the old key's last checkpoint, co-signed by the new key.
    const [announced, ...more] = (await s.api('GET', '/api/v1/audit/entries?action=audit.key.rotate')).json.items;
    expect(more).toEqual([]);
    expect(announced.json).toMatchObject({
      actor: { via: 'local' },
      subject: { type: 'audit-log', id: 'b.example/audit' },
      details: { previousOrigin: 'a.example/audit', previousVkey: k1, origin: 'b.example/audit', vkey: k2 },
    });
    const [transition] = (await s.api('GET', `/api/v1/audit/checkpoints?after=${announced.index}&limit=1`)).json.items;
    expect(transition.size).toBe(announced.index + 1);
    expect(firstLine(transition.note)).toBe('a.example/audit');
    expect(signatureLines(transition.note)).toHaveLength(2);
    expect(openNote(transition.note, k1).size).toBe(transition.size);
    await s.coop();
    expect(firstLine((await s.api('GET', '/api/v1/audit/checkpoint')).text)).toBe('b.example/audit');

    const followed = await s.cli('audit', 'verify');
    expect(followed.stderr).toBe('');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain(
      `KEY ROTATION at entry ${announced.index}: ${k1.split('+').slice(0, 2).join('+')} handed over to ${k2} (origin a.example/audit -> b.example/audit)`,
    );
    expect(followed.stdout).toMatch(/\nOK: b\.example\/audit at size \d+, root \S+, consistent with size \d+ verified before\n$/);
    expect(JSON.parse(readFileSync(path.join(auditor, 'config.json'), 'utf8')).auditKey).toBe(k2);
    const again = await s.cli('audit', 'verify');
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('KEY ROTATION');

    // Fresh auditors: one trusting the old key, one the new; both check every entry and checkpoint.
    for (const key of [k1, k2]) {
      const other = instance(s.running, s.token, store, auditorDir());
      const full = await other.cli('--json', 'audit', 'verify', '--full', '--key', key);
      expect(full.stderr, key).toBe('');
      expect(JSON.parse(full.stdout), key).toMatchObject({ ok: true, origin: 'b.example/audit', key: k2 });
      const proved = await other.cli('audit', 'prove', '1', '--key', key);
      expect(proved.code, key).toBe(0);
    }
  }, SLOW);

  it('refuses a key that was not announced, and an announcement the trusted key did not sign', async () => {
    const { first: s, store, auditor } = await firstStart('https://a.example');
    await s.coop();
    const k1 = (await s.api('GET', '/api/v1/audit/key')).text.trim();
    expect((await s.cli('audit', 'trust')).code).toBe(0);
    expect((await s.cli('audit', 'verify')).code).toBe(0);
    const box = new SecretBox(Buffer.from(store.masterKey, 'base64'));
    const db = s.running.database.db;
    /** Replaces the signing key directly in the database; `announce` writes an entry claiming a rotation from that key. */
    const swapKey = (to: ReturnType<typeof generateNoteKey>, announce?: { origin: string; vkey: string }) =>
      db.transaction(async (tx) => {
        await lockLog(tx);
        const from = (await activeLogKeyRow(tx))!;
        await retireLogKey(tx, from.vkey);
        await storeLogKey(tx, box, to);
        if (announce)
          await appendAudit(tx, {
            actor: LOCAL_OPERATOR,
            action: 'audit.key.rotate',
            subject: { type: 'audit-log', id: to.name },
            details: { previousOrigin: announce.origin, previousVkey: announce.vkey, origin: to.name, vkey: to.vkey },
          });
      });

    // A key swapped in behind the log's back signs the next checkpoints.
    await swapKey(generateNoteKey('a.example/audit'));
    await s.coop();
    const unannounced = await s.cli('audit', 'verify');
    expect(unannounced.code).toBe(3);
    expect(unannounced.stderr).toMatch(
      /^meetplane: VERIFICATION FAILED: the checkpoint of size \d+ is not signed by the key trusted for it \(a\.example\/audit\+[0-9a-f]{8}\); a key change that was not announced in a checkpoint signed by the key you trust is refused/,
    );

    // An entry announcing a rotation from the trusted key, in a checkpoint that key never signed.
    await swapKey(generateNoteKey('evil.example/audit'), { origin: 'a.example/audit', vkey: k1 });
    expect((await s.api('GET', '/api/v1/audit/checkpoint')).status).toBe(200);
    await s.coop();
    const forged = await s.cli('audit', 'verify');
    expect(forged.code).toBe(3);
    expect(forged.stderr).toMatch(/key rotation at entry \d+ \(a\.example\/audit\+[0-9a-f]{8} to evil\.example\/audit\+[0-9a-f]{8}\) refused: the checkpoint of size \d+: note has no signature by key a\.example\/audit\+/);
    expect(JSON.parse(readFileSync(path.join(auditor, 'config.json'), 'utf8')).auditKey).toBe(k1);
  }, SLOW);
});
