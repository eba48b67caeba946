// The hand-over dependencies from the server's: the transfers' own execution
// dependencies (the same the transfer routes build) and the policies.
import type { Deps } from '../http/env.js';
import { outboundFor } from '../net/outbound.js';
import { transferDeps } from '../transfers/deps.js';
import type { ExecutionDeps } from '../transfers/step-kit.js';
import type { HandoverDeps } from './deps.js';

export function handoverDepsOf({ db, box, log, signer, config, guard }: Pick<Deps, 'db' | 'box' | 'log' | 'signer' | 'config' | 'guard'>): HandoverDeps {
  const exec: ExecutionDeps = { db, box, log, signer, outbound: outboundFor(config), publicUrl: config.publicUrl, timing: config.transferTiming, ...transferDeps(db, config) };
  return { exec, authz: guard.authz, publicUrl: config.publicUrl };
}
