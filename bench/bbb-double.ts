// The BBB API double of the tests, as its own process for bench:gateway (so it does
// not share an event loop with the load generator). Prints its API URL, stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBbbDouble } from '../test/support/bbb/server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-bbb-'));
const double = await startBbbDouble({ secret: process.env.BBB_SECRET ?? 'bench-bbb-secret-0123456789', algorithm: 'sha256', recordingsDir: dir });
process.stdout.write(JSON.stringify({ url: double.url }) + '\n');
process.once('SIGTERM', () => {
  void double.close().finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
