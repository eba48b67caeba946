// The log served as C2SP tlog-tiles: what a standard tlog client does with
// them must agree with the signed checkpoint and with the server's own proof
// endpoints, and `meetplane audit verify --full` reads them.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../server/audit/trail.js';
import { LOCAL_OPERATOR } from '../../server/auth/principal.js';
import { inclusionProof, leafHash, MemoryNodeStore } from '../../server/audit/merkle.js';
import { openNote, type Checkpoint } from '../../server/audit/note.js';
import { decodeEntryBundle, decodeHashTile } from '../../server/audit/tiles.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { memberWithToken, createCoop } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

let s: TestServer;
let size: number;
let cp: Checkpoint;

beforeAll(async () => {
  s = await startTestServer();
  // Past two full tiles, so level-1 hashes exist: 600 entries, each its own change.
  for (let i = 0; i < 600; i++)
    await s.database.db.transaction((tx) => appendAudit(tx, { actor: LOCAL_OPERATOR, action: 'test.tile', subject: { type: 'test', id: String(i) } }));
  const note = (await s.api('GET', '/api/v1/audit/checkpoint')).text;
  cp = openNote(note, (await s.api('GET', '/api/v1/audit/key')).text.trim());
  size = cp.size;
}, 120_000);
afterAll(async () => {
  await s?.stop();
});

async function tile(p: string, token: string | null = s.adminToken): Promise<Response> {
  return fetch(`${s.url}/api/v1/audit/${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}
async function bytes(p: string): Promise<Uint8Array> {
  const res = await tile(p);
  expect(res.status, p).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}
const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('audit log as tlog-tiles', () => {
  it('gives what a tlog client needs to rebuild the signed root, and its proofs agree with the server', async () => {
    expect(size).toBeGreaterThan(600);
    const full = Math.floor(size / 256);
    const rest = size % 256;
    const names = [...Array.from({ length: full }, (_, n) => String(n).padStart(3, '0')), ...(rest ? [`${String(full).padStart(3, '0')}.p/${rest}`] : [])];
    const store = new MemoryNodeStore();
    for (const name of names) {
      const entries = decodeEntryBundle(await bytes(`tile/entries/${name}`));
      const hashes = decodeHashTile(await bytes(`tile/0/${name}`));
      expect(hashes).toHaveLength(entries.length);
      entries.forEach((e, i) => {
        expect(eq(leafHash(e), hashes[i]!)).toBe(true);
        store.append(hashes[i]!);
      });
    }
    expect(store.size).toBe(size);
    expect(eq(store.root(size), cp.rootHash)).toBe(true);
    // Level 1: the root of each complete 256-leaf subtree.
    const level1 = decodeHashTile(await bytes(`tile/1/000.p/${full}`));
    expect(level1).toHaveLength(full);
    for (let n = 0; n < full; n++) {
      const sub = new MemoryNodeStore();
      for (let i = n * 256; i < (n + 1) * 256; i++) sub.append((await store.get([{ level: 0, index: i }]))[0]!);
      expect(eq(level1[n]!, sub.root())).toBe(true);
    }
    for (const index of [0, 255, 256, 511, size - 1]) {
      const mine = (await inclusionProof(store, index, size)).map((h) => Buffer.from(h).toString('base64'));
      const theirs = (await s.api('GET', `/api/v1/audit/proof/inclusion?index=${index}&treeSize=${size}`)).json.hashes;
      expect(mine).toEqual(theirs);
    }
  });

  it('serves a partial tile of any width up to what the log holds, immutable, and nothing beyond', async () => {
    const res = await tile('tile/entries/000.p/7');
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(decodeEntryBundle(new Uint8Array(await res.arrayBuffer()))).toHaveLength(7);
    const beyond = Math.floor(size / 256) + 1;
    const missing = await tile(`tile/0/${String(beyond).padStart(3, '0')}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers a malformed tile path with a problem naming the form', async () => {
    const res = await tile('tile/0/1');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/is not a tile path/);
  });

  it('is for auditors only, like every read of the log', async () => {
    expect((await tile('tile/entries/000', null)).status).toBe(401);
    const coop = await createCoop(s);
    const member = await memberWithToken(s, coop.slug);
    expect((await tile('tile/entries/000', member.token)).status).toBe(403);
  });

  it('is what `meetplane audit verify --full` reads', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-tiles-'));
    const env = { MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken, MEETPLANE_CONFIG: path.join(dir, 'c.json'), MEETPLANE_AUDIT_STATE: path.join(dir, 's.json') };
    expect((await runCli(['audit', 'trust'], env)).code).toBe(0);
    const before = s.logs().length;
    const r = await runCli(['audit', 'verify', '--full'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const requests = s.logs().slice(before);
    expect(requests).toContain('/api/v1/audit/tile/entries/000');
    expect(requests).not.toMatch(/\/api\/v1\/audit\/entries\?[^"]*from=0/);
  });
});
