// Mutation testing of the trust-critical modules that need a database: the
// API's token check, the gateway, authorisation, transfer execution, leases and
// the lock-out. Each group names its modules and the few PGlite test files that
// exercise them; a mutant costs a server start per file, so measure one group at
// a time:
//
//   MUTATION_GROUP=token-check npm run mutation:db
//
// Results are kept per group (reports/mutation/db-<group>.json), so a re-run
// after a change tests only what changed. A measurement, not part of CI.
import base from './stryker.config.mjs';

/** Group → the modules mutated and the test files run against each mutant. */
export const groups = {
  // The REST API's JWT check: issuer, audience, type, expiry, the api scope, the account or client behind it.
  'token-check': { mutate: ['server/oidc/verify.ts'], tests: ['test/oidc/jwt-claims.db.test.ts', 'test/oidc/accounts.db.test.ts', 'test/oidc/token-memo.test.ts'] },
  // One runner per transfer at a time.
  lease: { mutate: ['server/transfers/lease.ts'], tests: ['test/transfers/lease.db.test.ts'] },
  // Failed-login counting and log-in itself.
  'lock-out': { mutate: ['server/accounts/throttle.ts', 'server/accounts/credentials.ts'], tests: ['test/accounts/credentials.db.test.ts', 'test/oidc/accounts.db.test.ts', 'test/oidc/sweep.db.test.ts'] },
  // Which recordings a tenancy may list, publish, update and delete through the gateway.
  'gateway-recordings': { mutate: ['server/gateway/gateway.ts:280-340'], tests: ['test/gateway/recording-ownership.db.test.ts', 'test/gateway/moved-tenancy.db.test.ts'] },
  // The rest of the gateway, in three groups a session can measure one at a time:
  // the calls themselves (the tenancy's checksum, its meetings and meta tag, answers merged across clusters)...
  'gateway-calls': {
    mutate: ['server/gateway/gateway.ts:1-279', 'server/gateway/gateway.ts:341-411', 'server/gateway/merge.ts', 'server/gateway/query.ts'],
    tests: ['test/gateway/pure.test.ts', 'test/gateway/gateway.db.test.ts', 'test/gateway/moved-tenancy.db.test.ts', 'test/gateway/recording-ownership.db.test.ts', 'test/api/malformed.db.test.ts', 'test/forwarding/forwarding.db.test.ts'],
  },
  // ...where a call goes (the tenancy's cluster, a former cluster, a forward to another instance) and how fresh that is...
  'gateway-routing': {
    mutate: ['server/gateway/target.ts', 'server/gateway/placement.ts'],
    tests: ['test/gateway/gateway.db.test.ts', 'test/gateway/moved-tenancy.db.test.ts', 'test/gateway/probing.db.test.ts', 'test/gateway/cross-process.db.test.ts', 'test/forwarding/forwarding.db.test.ts'],
  },
  // ...and the recording-ready callback, re-signed for the front end that asked for it.
  'gateway-callback': {
    mutate: ['server/gateway/callback.ts'],
    tests: ['test/gateway/recording-ready.db.test.ts', 'test/gateway/callback-policy.db.test.ts', 'test/gateway/gateway.db.test.ts', 'test/forwarding/forwarding.db.test.ts'],
  },
  // The target's files checked before a transfer completes.
  // Delegation, revocation and the scopes grants are placed in.
  grants: { mutate: ['server/grants/service.ts'], tests: ['test/grants/grants.db.test.ts', 'test/grants/service.db.test.ts', 'test/transfers/delegated-approval.db.test.ts', 'test/oidc/machine-clients.db.test.ts'] },
  // The audit log's signed checkpoints.
  checkpoints: { mutate: ['server/audit/checkpoints.ts'], tests: ['test/audit/checkpoints.db.test.ts', 'test/audit/log.db.test.ts'] },
  // A principal's facts and decisions: who may do what to whom.
  authz: { mutate: ['server/authz/authz.ts'], tests: ['test/authz/facts.db.test.ts', 'test/authz/takeover.db.test.ts', 'test/authz/matrix.db.test.ts', 'test/authz/machine-matrix.db.test.ts', 'test/oidc/machine-clients.db.test.ts'] },
  // The switch (tenancy, inventory, accounts and objectors' memberships in one transaction) and its undoing:
  // a failure before or after it, an operator's retry and resolution.
  'transfer-switch': {
    mutate: ['server/transfers/switch.ts', 'server/transfers/recovery.ts'],
    tests: ['test/transfers/execute.db.test.ts', 'test/transfers/after-switch.db.test.ts', 'test/transfers/left-behind.db.test.ts', 'test/transfers/recording-states.db.test.ts', 'test/transfers/etag.db.test.ts'],
  },
  // A transfer's steps in order, each claimed under the lease and idempotent; what a failure before or after the switch leads to.
  'transfer-execute': {
    mutate: ['server/transfers/execute.ts'],
    tests: ['test/transfers/execute.db.test.ts', 'test/transfers/after-switch.db.test.ts', 'test/transfers/left-behind.db.test.ts', 'test/transfers/recording-states.db.test.ts', 'test/transfers/held.db.test.ts', 'test/transfers/lease-lost.db.test.ts', 'test/transfers/step-races.db.test.ts', 'test/peer-transfers/lifecycle.db.test.ts'],
  },
  'transfer-verify': { mutate: ['server/transfers/verify.ts'], tests: ['test/transfers/after-switch.db.test.ts', 'test/transfers/recording-states.db.test.ts', 'test/transfers/execute.db.test.ts'] },
};

const name = process.env.MUTATION_GROUP ?? '';
const group = groups[name];
if (!group) throw new Error(`MUTATION_GROUP must name one of: ${Object.keys(groups).join(', ')}`);
// The test runner processes Stryker starts inherit this; vitest.mutation-db.config.ts reads it.
process.env.MUTATION_DB_TESTS = group.tests.join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation-db.config.ts', related: false },
  // Some groups' test files also run the built CLI (dist/), which holds unmutated code: those
  // tests kill no mutant, but they must find it to pass the initial run.
  ignorePatterns: base.ignorePatterns.filter((p) => p !== 'dist'),
  mutate: group.mutate,
  // A db test file starts a server: allow it far longer than a unit test.
  timeoutMS: 60_000,
  incrementalFile: `reports/mutation/db-${name}.json`,
  htmlReporter: { fileName: `reports/mutation/db-${name}.html` },
  jsonReporter: { fileName: `reports/mutation/db-${name}.mutation.json` },
};
