// Runs copyFiles in its own process so a test can SIGKILL it mid-copy:
//   node --import tsx test/support/copy-worker.ts <sourceDir> <targetDir> <stateFile> [delayMsPerChunk]
// <targetDir> may be an sftp:// URL: the key and the host key come in
// COPY_WORKER_SFTP_KEY and COPY_WORKER_SFTP_HOSTKEY.
// Prints one JSON progress line per chunk on stdout.
import { FileStorage } from '../../server/storage/file.js';
import { openStorage } from '../../server/storage/open.js';
import { copyFiles, listFiles } from '../../server/transfers/copy.js';
import { CountingStorage, FileCopyState } from './storage.js';

const [sourceDir, targetDir, stateFile, delay] = process.argv.slice(2);
if (!sourceDir || !targetDir || !stateFile) throw new Error('usage: copy-worker.ts <sourceDir> <targetDir> <stateFile> [delayMsPerChunk]');

const from = new CountingStorage(new FileStorage(sourceDir), { delayMsPerChunk: Number(delay ?? 0) });
const to = targetDir.startsWith('sftp://')
  ? openStorage(targetDir, { privateKey: process.env.COPY_WORKER_SFTP_KEY, hostKeySha256: process.env.COPY_WORKER_SFTP_HOSTKEY })
  : new FileStorage(targetDir);
const files = await listFiles(from);
await copyFiles({
  from,
  to,
  files,
  state: new FileCopyState(stateFile),
  concurrency: 1,
  // Each file recorded as soon as it is durable, so the test knows which are when it kills.
  batch: { files: 1 },
  progressIntervalMs: 0,
  onProgress: (p) => process.stdout.write(JSON.stringify(p) + '\n'),
});
process.stdout.write('"finished"\n');
