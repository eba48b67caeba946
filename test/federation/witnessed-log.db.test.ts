// An instance's own audit log, witnessed by two peer instances: it sends its checkpoint to both
// (tlog-witness), serves their cosignatures with the checkpoint, and `meetplane audit verify
// --witnesses <tlog-policy>` passes with the quorum and fails, with one line saying why, below it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { generateNoteKey } from '../../server/audit/note.js';
import { cosignerVkey } from '../../federation/cosignature.js';

let log: TestServer, w1: TestServer, w2: TestServer;
const dir = mkdtempSync(path.join(os.tmpdir(), 'meetplane-witnessed-'));
const at = (s: TestServer) => ({ MEETPLANE_URL: s.url, MEETPLANE_TOKEN: s.adminToken, MEETPLANE_CONFIG: path.join(dir, 'config.json') });
const witnessVkey = async (w: TestServer) => (await w.api('GET', '/api/v1/federation/witness')).json.vkey as string;
const policyFile = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

beforeAll(async () => {
  [log, w1, w2] = [await startTestServer(), await startTestServer(), await startTestServer()];
}, 180_000);
afterAll(async () => {
  for (const s of [log, w1, w2]) await s?.stop();
});

describe('a witnessed audit log', () => {
  it('collects cosignatures from its witnesses and audit verify --witnesses checks the quorum', async () => {
    const vkey = (await log.api('GET', '/api/v1/audit/key')).text.trim();
    const origin = vkey.split('+')[0]!;
    const [v1, v2] = [await witnessVkey(w1), await witnessVkey(w2)];
    for (const [w, v] of [[w1, v1], [w2, v2]] as const) {
      expect((await w.api('POST', '/api/v1/federation/witness/logs', { body: { origin, vkey } })).status).toBe(201);
      const added = await runCli(['audit', 'witnesses', 'add', `${w.url}/witness/add-checkpoint`, '--vkey', v], at(log));
      expect(added.code, added.stderr).toBe(0);
    }
    const cosigned = await runCli(['--json', 'audit', 'cosign'], at(log));
    expect(cosigned.code, cosigned.stdout + cosigned.stderr).toBe(0);
    expect(JSON.parse(cosigned.stdout).items.map((i: { outcome: string }) => i.outcome)).toEqual(['cosigned', 'cosigned']);
    const served = (await log.api('GET', '/api/v1/audit/checkpoint')).text;
    expect(served.match(/^— /gm)).toHaveLength(3); // the log's signature and two cosignatures

    const outsider = generateNoteKey('outsider.example/witness');
    const v3 = cosignerVkey(outsider.name, outsider.publicKey);
    const verify = (file: string) => runCli(['audit', 'verify', '--key', vkey, '--witnesses', file], at(log));

    const both = await verify(policyFile('both.txt', `log ${vkey}\nwitness W1 ${v1}\nwitness W2 ${v2}\ngroup all-of-them 2 W1 W2\nquorum all-of-them\n`));
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain('cosigned by W1, W2');

    // n-1 listed witnesses cosigned; W2's cosignature is there but W2 is not listed: it does not count.
    const short = await verify(policyFile('short.txt', `witness W1 ${v1}\nwitness W3 ${v3}\ngroup two 2 W1 W3\nquorum two\n`));
    expect(short.code).toBe(3);
    expect(short.stderr.trim().split('\n')).toEqual(["meetplane: VERIFICATION FAILED: witnesses: the checkpoint is cosigned by W1, short of the policy's quorum (two)"]);

    const otherLog = await verify(policyFile('other-log.txt', `log ${generateNoteKey(origin).vkey}\nwitness W1 ${v1}\nquorum W1\n`));
    expect(otherLog.code).toBe(3);
    expect(otherLog.stderr).toMatch(/not among the policy's logs/);

    const broken = await verify(policyFile('broken.txt', `witness W1 ${v1}\n`));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/no quorum line/);
  });
});
