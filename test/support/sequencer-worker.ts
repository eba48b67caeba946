// Runs the audit sequencer in its own process so a test can SIGKILL it mid-batch:
//   MEETPLANE_FAILPOINT=audit.sequence.batch:<n> node --import tsx test/support/sequencer-worker.ts <postgresUrl> <batchSize>
// Sequences batches of <batchSize> until nothing is pending, printing one JSON line
// ({"sequenced": n}) after each batch commits, then "finished".
import { openPostgres } from '../../server/db/index.js';
import { sequenceBatch } from '../../server/audit/sequencer.js';

const [url, size] = process.argv.slice(2);
if (!url || !size) throw new Error('usage: sequencer-worker.ts <postgresUrl> <batchSize>');
const database = await openPostgres(url, 1);
for (;;) {
  const n = await database.db.transaction(async (tx) => (await sequenceBatch(tx, Number(size))).size);
  process.stdout.write(JSON.stringify({ sequenced: n }) + '\n');
  if (n === 0) break;
}
process.stdout.write('"finished"\n');
await database.close();
