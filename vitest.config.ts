import { defineConfig } from 'vitest/config';

// Projects: pure unit tests run once; every `*.db.test.ts` runs twice,
// on embedded PGlite and on a real PostgreSQL (a fresh database per run);
// interop drives Debian's OIDC software. `npm test` runs those. The slow
// end-to-end tests (processes killed at every step, chains waited out to
// their expiry, whole moves with a browser, two instances pulling a tenancy,
// the CLI's own processes driven command by command) are their own projects,
// `npm run test:slow`, so the main run stays under 15 minutes; CI runs both.
const SLOW = [
  'test/transfers/crash.db.test.ts',
  'test/peer-transfers/crash.db.test.ts',
  'test/federation/sign-on-anchor.db.test.ts',
  'test/peer-transfers/sign-on-after-move.db.test.ts',
  // measured at 40-120 s a file (both backends) on the 2-core CI machine:
  'test/peer-transfers/pull.db.test.ts',
  'test/audit/tamper.db.test.ts',
  'test/audit/identity.db.test.ts',
  'test/oidc/upstream.db.test.ts',
  'test/master-key/rotate.db.test.ts',
  'test/cli/cli.db.test.ts',
  'test/handovers/cli.db.test.ts',
  'test/oidc/cli.db.test.ts',
  'test/transfers/cli.db.test.ts',
];
/** CLI tests without a test database (each starts its own server on a fresh data directory), 30-60 s each. */
const SLOW_UNIT = ['test/cli/backup-restore.test.ts', 'test/cli/data-dir-lock.test.ts', 'test/cli/setup-link.test.ts', 'test/cli/newcomer-errors.test.ts'];
const pglite = { env: { MEETPLANE_TEST_DB: 'pglite' }, globalSetup: ['test/support/setup-pglite.ts'] };
const postgres = { env: { MEETPLANE_TEST_DB: 'postgres' }, globalSetup: ['test/support/setup-postgres.ts'] };

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
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.db.test.ts', 'test/**/*.interop.test.ts', ...SLOW_UNIT] } },
      { extends: true, test: { name: 'pglite', include: ['test/**/*.db.test.ts'], exclude: SLOW, ...pglite } },
      { extends: true, test: { name: 'postgres', include: ['test/**/*.db.test.ts'], exclude: SLOW, ...postgres } },
      { extends: true, test: { name: 'slow-unit', include: SLOW_UNIT } },
      { extends: true, test: { name: 'slow-pglite', include: SLOW, ...pglite } },
      { extends: true, test: { name: 'slow-postgres', include: SLOW, ...postgres } },
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
