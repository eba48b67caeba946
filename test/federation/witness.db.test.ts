// The instance as a C2SP tlog witness for a log built here (the project's own Merkle and note
// code, an origin of its own): it cosigns a consistent sequence and refuses, records and reports
// a fork, a rollback and a proof that does not verify; two witnesses shown different checkpoints
// of one log cannot both cosign the same one, and the next consistent step exposes the fork.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { consistencyProof, leafHash, MemoryNodeStore } from '../../server/audit/merkle.js';
import { formatCheckpoint, generateNoteKey, signNote, type NoteKey } from '../../server/audit/note.js';
import { parseCosignerVkey, verifyCosignatures } from '../../federation/cosignature.js';
import { checkQuorum, parseWitnessPolicy } from '../../federation/witness-policy.js';

const ORIGIN = 'log.example.coop/audit';
const logKey = generateNoteKey(ORIGIN);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** A log of `n` entries whose contents start with `tag` (two tags: two forks of one origin). */
function tree(tag: string, n: number, shared = 0): MemoryNodeStore {
  const store = new MemoryNodeStore();
  for (let i = 0; i < n; i++) store.append(leafHash(new TextEncoder().encode(i < shared ? `entry ${i}` : `${tag} ${i}`)));
  return store;
}
const note = (store: MemoryNodeStore, size: number, key: NoteKey = logKey) => signNote(formatCheckpoint({ origin: ORIGIN, size, rootHash: store.root(size) }), key);
const body = async (store: MemoryNodeStore, old: number, size: number, key: NoteKey = logKey) => {
  const proof = old > 0 && old < size ? await consistencyProof(store, old, size) : [];
  return `old ${old}\n${proof.map((h) => `${b64(h)}\n`).join('')}\n${note(store, size, key)}`;
};
const submit = (w: TestServer, text: string) => fetch(`${w.url}/witness/add-checkpoint`, { method: 'POST', body: text });
const witnessVkey = async (w: TestServer) => (await w.api('GET', '/api/v1/federation/witness')).json.vkey as string;
const at = (s: TestServer) => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken });

const main = tree('main', 12, 12);
const forked = tree('fork', 12, 5); // shares the first 5 entries with main, then differs

let w1: TestServer, w2: TestServer;
beforeAll(async () => {
  [w1, w2] = [await startTestServer(), await startTestServer()];
}, 120_000);
afterAll(async () => {
  for (const s of [w1, w2]) await s?.stop();
});

describe('the witness (C2SP tlog-witness add-checkpoint)', () => {
  it('knows no log until a platform admin adds it: 404, then witnesses it', async () => {
    expect((await submit(w1, await body(main, 0, 3))).status).toBe(404);
    const added = await runCli(['federation', 'witness', 'add', ORIGIN, '--vkey', logKey.vkey], at(w1));
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`witnessing ${ORIGIN}`);
    const bad = await w1.api('POST', '/api/v1/federation/witness/logs', { body: { origin: 'other.example/log', vkey: logKey.vkey } });
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toMatch(/is not the origin/);
    expect(bad.json.errors).toEqual([{ path: 'vkey', message: expect.stringMatching(/is not the origin/) }]);
    const garbled = await w1.api('POST', '/api/v1/audit/witnesses', { body: { url: 'https://w.example/witness/add-checkpoint', vkey: 'not a vkey' } });
    expect(garbled.status).toBe(400);
    expect(garbled.json.errors.map((e: { path: string }) => e.path)).toEqual(['vkey']);
    expect((await w2.api('POST', '/api/v1/federation/witness/logs', { body: { origin: ORIGIN, vkey: logKey.vkey } })).status).toBe(201);
  });

  it('cosigns a consistent sequence with cosignature/v1 lines by its published key', async () => {
    const witness = parseCosignerVkey(await witnessVkey(w1));
    for (const [old, size] of [[0, 3], [3, 7], [7, 7], [7, 8]] as const) {
      const res = await submit(w1, await body(main, old, size));
      const lines = await res.text();
      expect(res.status, lines).toBe(200);
      expect(lines).toMatch(/^— \S+ \S+\n$/);
      const [cosig] = verifyCosignatures(note(main, size) + lines, [witness]);
      expect(cosig!.time).toBeGreaterThan(Date.now() / 1000 - 60);
    }
    const shown = await runCli(['federation', 'witness'], at(w1));
    expect(shown.stdout).toContain(`witness key: ${await witnessVkey(w1)}`);
    expect(shown.stdout).toMatch(new RegExp(`${ORIGIN.replace(/\./g, '\\.')}\\s+8`));
  });

  it('answers 409 text/x.tlog.size with the size it cosigned when old is not that size', async () => {
    const res = await submit(w1, await body(main, 3, 10));
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await res.text()).toBe('8\n');
  });

  it('refuses a checkpoint not signed by the log key (403), a malformed body or old > size (400), a proof from 0 (422)', async () => {
    const impostor = generateNoteKey(ORIGIN);
    expect((await submit(w1, await body(main, 8, 9, impostor))).status).toBe(403);
    const tampered = (await body(main, 8, 9)).replace(`\n9\n`, '\n10\n');
    expect((await submit(w1, tampered)).status).toBe(403);
    for (const text of ['old 08\n\n' + note(main, 9), 'old 8\nnot base64\n\n' + note(main, 9), 'old 8\n' + note(main, 9), `old 10\n\n${note(main, 9)}`]) {
      const res = await submit(w1, text);
      expect(res.status, text).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await submit(w2, `old 0\n${b64(main.root(2))}\n\n${note(main, 3)}`)).status).toBe(422);
  });

  it('refuses, records and reports a fork, a rollback and a proof that does not verify', async () => {
    const fork = await submit(w1, await body(forked, 8, 8)); // same size, another root
    expect(fork.status).toBe(422);
    expect(((await fork.json()) as { incident: string }).incident).toBe('fork');
    const proof = await submit(w1, `old 8\n${(await consistencyProof(forked, 8, 10)).map((h) => `${b64(h)}\n`).join('')}\n${note(forked, 10)}`);
    expect(proof.status).toBe(422);
    const rollback = await submit(w1, await body(main, 5, 5));
    expect(rollback.status).toBe(409);
    expect(await rollback.text()).toBe('8\n');
    // None of them moved the recorded state: the honest next step still cosigns.
    expect((await submit(w1, await body(main, 8, 9))).status).toBe(200);

    const incidents = (await w1.api('GET', '/api/v1/federation/incidents')).json.items as Array<Record<string, unknown>>;
    expect(incidents.map((i) => i.kind).sort()).toEqual(['bad-proof', 'fork', 'rollback']);
    const forkIncident = incidents.find((i) => i.kind === 'fork')!;
    expect(String(forkIncident.recordedCheckpoint).split('\n').slice(0, 3)).toEqual([ORIGIN, '8', b64(main.root(8))]);
    expect(String(forkIncident.presentedCheckpoint).split('\n').slice(0, 3)).toEqual([ORIGIN, '8', b64(forked.root(8))]);

    const cli = await runCli(['federation', 'incidents'], at(w1));
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/fork/);
    expect(cli.stdout).toMatch(/rollback/);
    const audited = await w1.api('GET', '/api/v1/audit/entries?action=witness.incident');
    expect(audited.json.items.map((e: { json: { details: { kind: string } } }) => e.json.details.kind).sort()).toEqual(['bad-proof', 'fork', 'rollback']);
    const metrics = await (await fetch(`${w1.url}/metrics`)).text();
    expect(metrics).toContain(`meetplane_witness_incidents{origin="${ORIGIN}",kind="fork"} 1`);
  });

  it('detects a forked log: shown different checkpoints, two witnesses never cosign the same one, and the fork shows at the next step', async () => {
    // The log shows the main branch to w1 (at 9 already) and the fork to w2.
    expect((await submit(w2, await body(forked, 0, 9))).status).toBe(200);
    const [v1, v2] = [await witnessVkey(w1), await witnessVkey(w2)];
    const policy = parseWitnessPolicy(`witness W1 ${v1}\nwitness W2 ${v2}\ngroup both all W1 W2\nquorum both\n`);
    const cosign = async (w: TestServer, store: MemoryNodeStore, old: number, size: number) => {
      const res = await submit(w, await body(store, old, size));
      return res.status === 200 ? await res.text() : '';
    };
    const mainNote = note(main, 10) + (await cosign(w1, main, 9, 10));
    const forkNote = note(forked, 10) + (await cosign(w2, forked, 9, 10));
    expect(checkQuorum(policy, mainNote)).toEqual({ cosigned: ['W1'], ok: false });
    expect(checkQuorum(policy, forkNote)).toEqual({ cosigned: ['W2'], ok: false });
    // To get the second cosignature on the main branch, the log must prove it to w2: it cannot.
    const res = await submit(w2, await body(main, 10, 11));
    expect(res.status).toBe(422);
    const incidents = (await w2.api('GET', '/api/v1/federation/incidents')).json.items as Array<Record<string, unknown>>;
    expect(incidents.map((i) => i.kind)).toEqual(['bad-proof']);
    expect(String(incidents[0]!.presentedCheckpoint).split('\n')[2]).toBe(b64(main.root(11)));
  });

  it('checks and records atomically: of two requests from the same old size, one is cosigned and the other told the new size', async () => {
    const answers = await Promise.all([submit(w1, await body(main, 10, 11)), submit(w1, await body(main, 10, 12))]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const told = await answers.find((r) => r.status === 409)!.text();
    const logs = (await w1.api('GET', '/api/v1/federation/witness')).json.logs as Array<{ size: number }>;
    expect(told).toBe(`${logs[0]!.size}\n`);
  });
});
