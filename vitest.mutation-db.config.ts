import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The vitest configuration Stryker runs for modules that need a database
// (stryker.db.config.mjs): the test files of one group only (MUTATION_DB_TESTS,
// set by that config), on embedded PGlite, each file from the migrated dump.
// Slow per mutant (a server per file), so a group names the few files that
// exercise its modules.
const sandboxes = path.resolve('..');
if (path.basename(sandboxes) === '.stryker-tmp') {
  const vectors = path.resolve(sandboxes, '../../shared');
  const beside = path.join(sandboxes, 'shared');
  if (existsSync(vectors) && !existsSync(beside)) symlinkSync(vectors, beside);
}

const files = (process.env.MUTATION_DB_TESTS ?? '').split(',').filter(Boolean);
if (files.length === 0) throw new Error('MUTATION_DB_TESTS names no test files: run it through `npm run mutation:db` (stryker.db.config.mjs)');

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    // As in the unit mutation run: each file imports the modules afresh, so a mutant active while a module loads reaches its tests.
    isolate: true,
    include: files,
    env: { MEETPLANE_TEST_DB: 'pglite' },
    globalSetup: ['test/support/setup-pglite.ts'],
  },
});
