// The auditor's verification code must not depend on the server's database
// code: follow its relative imports and check none reaches server/db or a
// database driver.
import { describe, expect, it } from 'vitest';
import { databaseReach } from '../support/import-graph.js';

describe('audit verifier independence', () => {
  it('imports no database code', () => {
    const { files, offending } = databaseReach('cli/audit/verifier.ts');
    expect(files).toContain('server/audit/merkle.ts'); // the walk really follows imports
    expect(offending).toEqual([]);
  });

  it('reads tiles without database code', () => {
    const { files, offending } = databaseReach('cli/audit/tile-source.ts');
    expect(files).toContain('server/audit/tiles.ts');
    expect(offending).toEqual([]);
  });

  it('follows key rotations without database code', () => {
    const { files, offending } = databaseReach('cli/audit/rotations.ts');
    expect(files).toContain('server/audit/announcement.ts');
    expect(offending).toEqual([]);
  });
});
