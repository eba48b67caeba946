// Mutation testing with StrykerJS: `npm run mutation` puts small bugs
// (mutants) into the trust-critical modules one at a time and runs the unit
// tests that cover each; a mutant no test notices "survives". A measurement
// like the benchmarks, not part of `npm test` or CI.
//
//   npm run mutation                                   the default set below
//   npm run mutation -- --mutate policies/evaluator.ts one module (or a glob)
//   npm run mutation -- --force                        ignore the incremental file
//
// Incremental: results are kept in reports/mutation/incremental.json, and a
// re-run tests only the mutants whose code or covering tests changed.

/** Pure modules the security model rests on, measured by default. */
const trustCritical = [
  // who may do what: the Cedar evaluator and the facts it is given
  'policies/evaluator.ts',
  'policies/engine.ts',
  'policies/entities.ts',
  'policies/holdings.ts',
  'policies/roles.ts',
  'policies/source.ts',
  'server/grants/rules.ts',
  // data protection: where a tenancy may go and with how much notice
  'policies/data-protection/rules.ts',
  'server/transfers/jurisdictions.ts',
  'server/transfers/facts.ts',
  'server/transfers/lifecycle.ts',
  'server/transfers/retention.ts',
  // the recordings' copy: every byte checked by SHA-256 and durable before it counts as copied, resumable
  'server/transfers/copy.ts',
  // the audit log's proofs, signed notes and the offline verifier
  'server/audit/merkle.ts',
  'server/audit/note.ts',
  'server/audit/canonical.ts',
  'cli/audit/verifier.ts',
  'cli/audit/rotations.ts',
  // secrets, passwords, signatures, the outbound policy and accepted text
  'server/bbb/checksum.ts',
  'server/accounts/passwords.ts',
  'server/accounts/concurrency-limit.ts',
  'server/accounts/login-keys.ts',
  'server/crypto/*.ts',
  'server/net/addresses.ts',
  'server/http/text.ts',
  'server/logger.ts',
  // transfers between instances: the proofs and capabilities a pull is allowed by, and the reader that cuts its answers into files
  'federation/dpop.ts',
  'federation/transfer-capability.ts',
  'server/peer-transfers/batch-source.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // Stryker's vitest runner records which test reaches which mutant in the
  // first (dry) run and then runs, for each mutant, only those tests.
  coverageAnalysis: 'perTest',
  // Mutants that do not compile are discarded, not counted as killed.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  mutate: trustCritical,
  // Two shared cores: one test runner, one checker.
  concurrency: 1,
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { reportMutants: true, reportTests: false, reportScoreTable: true },
  thresholds: { high: 85, low: 70, break: null },
  // Not needed in the sandbox Stryker copies the project into.
  ignorePatterns: ['dist', 'data', 'coverage', 'reports', '.meetplane-test', '.scratch'],
  tempDirName: '.stryker-tmp',
};
