import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests run once; every `*.db.test.ts` runs twice,
// on embedded PGlite and on a real PostgreSQL (a fresh database per run).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // A worker keeps the modules it loaded from one test file to the next:
    // importing the server anew for every file cost minutes. Tests share no
    // module state they change (no mocks, no stubbed environment).
    isolate: false,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.db.test.ts', 'test/**/*.interop.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/**/*.db.test.ts'],
          env: { MEETPLANE_TEST_DB: 'pglite' },
          globalSetup: ['test/support/setup-pglite.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.db.test.ts'],
          env: { MEETPLANE_TEST_DB: 'postgres' },
          globalSetup: ['test/support/setup-postgres.ts'],
        },
      },
      {
        // Independent OIDC software from Debian (Apache mod_auth_openidc, LemonLDAP::NG) against a
        // meetplane on embedded PGlite; .ci/run installs the packages, a missing one fails loudly.
        extends: true,
        test: {
          name: 'interop',
          include: ['test/interop/**/*.interop.test.ts'],
          env: { MEETPLANE_TEST_DB: 'pglite' },
          globalSetup: ['test/support/setup-pglite.ts'],
        },
      },
    ],
  },
});
