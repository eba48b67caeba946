// What deciding on and executing transfers needs, built once per process: the
// data-protection rules (validated at load), the jurisdiction registry, the
// policy minimum notice and the clusters' last health polls.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { Config } from '../config.js';
import { clusterHealth } from '../clusters/health-table.js';
import { DataProtectionRules } from '../../policies/data-protection/rules.js';
import { JurisdictionRegistry } from './jurisdictions.js';
import type { TransferDeps } from './service.js';

// The rules and the registry come from files shipped with the code and never change while a
// process runs: loaded and validated once, however many modules need them (transfer routes, the
// background runner, the hand-over routes and pages each build their deps).
let rules: DataProtectionRules | undefined;
let registry: JurisdictionRegistry | undefined;
/** The jurisdiction registry the rules decide with (and the member page quotes), read once. */
export const jurisdictionRegistry = () => (registry ??= JurisdictionRegistry.load());

export function transferDeps(db: Db, config: Pick<Config, 'transferMinNoticeDays'>): TransferDeps {
  return {
    rules: (rules ??= new DataProtectionRules()),
    registry: jurisdictionRegistry(),
    minNoticeDays: config.transferMinNoticeDays,
    clusterStatus: async (clusterId) => {
      const [h] = await db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId));
      return { online: h?.state === 'online', load: h?.load ?? 0 };
    },
  };
}
