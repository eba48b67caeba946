// npm run bench:transfer [-- --quick]: the copy benchmark (disk to disk), the
// copy over SFTP, then the metadata one, each in its own process (a fresh heap
// for the peak RSS), all given the same arguments.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
for (const bench of ['transfer-copy.js', 'transfer-sftp.js', 'transfer-metadata.js']) {
  const { status } = spawnSync(process.execPath, [path.join(here, bench), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}
