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

export function transferDeps(db: Db, config: Pick<Config, 'transferMinNoticeDays'>): TransferDeps {
  return {
    rules: new DataProtectionRules(),
    registry: JurisdictionRegistry.load(),
    minNoticeDays: config.transferMinNoticeDays,
    clusterStatus: async (clusterId) => {
      const [h] = await db.select().from(clusterHealth).where(eq(clusterHealth.clusterId, clusterId));
      return { online: h?.state === 'online', load: h?.load ?? 0 };
    },
  };
}
