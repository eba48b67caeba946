// What the hand-over orchestration needs: the database, the transfers' own
// rules and runner dependencies (it creates and runs ordinary transfers), and
// the policies, asked for every person whose approval a transfer carries.
import type { Authz } from '../authz/authz.js';
import type { ExecutionDeps } from '../transfers/step-kit.js';

export interface HandoverDeps {
  exec: ExecutionDeps;
  authz: Authz;
  publicUrl: string;
}
