import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The vitest configuration Stryker runs (stryker.config.mjs): the `unit` project
// only. The db projects start PGlite or PostgreSQL and the real server in every
// test file; run for each mutant that covers them they would take days on a
// 2-core machine, so mutation scores measure what the fast tests catch.
// test/audit/merkle.test.ts reads test vectors kept beside the repository
// (../shared). Stryker runs the tests in .stryker-tmp/sandbox-*/, so link the
// vectors beside the sandboxes too.
const sandboxes = path.resolve('..');
if (path.basename(sandboxes) === '.stryker-tmp') {
  const vectors = path.resolve(sandboxes, '../../shared');
  const beside = path.join(sandboxes, 'shared');
  if (existsSync(vectors) && !existsSync(beside)) symlinkSync(vectors, beside);
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Each test file imports the modules afresh, so a mutant that is active
    // while a module loads (a "static" mutant) reaches the test that sees it.
    isolate: true,
    include: ['test/**/*.test.ts'],
    // The interop tests need Debian's OIDC software and a database: not for mutants either.
    exclude: ['test/**/*.db.test.ts', 'test/**/*.interop.test.ts'],
  },
});
