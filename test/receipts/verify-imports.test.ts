// The receipt verifier runs in the CLI with no server: follow its relative
// imports and check none reaches database code or a database driver.
import { describe, expect, it } from 'vitest';
import { databaseReach } from '../support/import-graph.js';

describe('receipt verifier independence', () => {
  it.each(['federation/receipt-verify.ts', 'cli/commands/receipts.ts'])('%s imports no database code', (entry) => {
    const { files, offending } = databaseReach(entry, (f) => f.startsWith('server/receipts'));
    expect(files).toContain('server/audit/canonical.ts'); // the walk really follows imports
    expect(offending).toEqual([]);
  });
});
