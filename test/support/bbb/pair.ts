// The two BBB servers a transfer test needs: the source and the target (doubles
// of test/support/bbb/server.ts), each publishing recordings from its own
// temporary directory, and one close for both.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBbbDouble, type BbbDouble } from './server.js';

export interface BbbPair {
  source: BbbDouble;
  target: BbbDouble;
  /** the published-recordings directories, as the clusters' file:// storage */
  dirs: { source: string; target: string };
  close(): Promise<void>;
}

export async function startBbbPair(secrets: { source: string; target: string }): Promise<BbbPair> {
  const dirs = { source: mkdtempSync(path.join(os.tmpdir(), 'mp-bbb-src-')), target: mkdtempSync(path.join(os.tmpdir(), 'mp-bbb-dst-')) };
  const source = await startBbbDouble({ secret: secrets.source, recordingsDir: dirs.source });
  const target = await startBbbDouble({ secret: secrets.target, recordingsDir: dirs.target });
  return {
    source,
    target,
    dirs,
    async close() {
      await source.close();
      await target.close();
      for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    },
  };
}
