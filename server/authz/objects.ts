// Loading an object named in a path and asking the policies about it, in one
// place: missing → 404; the principal may not read it → 404 (same answer);
// may read but not do `action` → 403. Returns the object and the principal
// acting under the allow decision (which the change's audit entry records).
import type { Db } from '../db/index.js';
import type { Principal } from '../auth/principal.js';
import { problems } from '../http/problem.js';
import { findCoop, type Coop } from '../coops/service.js';
import { findCluster, type Cluster } from '../clusters/service.js';
import { findTenancy, type Tenancy } from '../tenancies/service.js';
import { clusterRef, coopRef, tenancyRef, type Guard } from './guard.js';

export async function coopFor(db: Db, guard: Guard, p: Principal, id: string, action: string): Promise<{ coop: Coop; actor: Principal }> {
  const coop = await findCoop(db, id);
  if (!coop) throw problems.notFound('co-op');
  return { coop, actor: await guard.allow(p, action, coopRef(coop), 'co-op', 'coop.read') };
}

export async function clusterFor(db: Db, guard: Guard, p: Principal, id: string, action: string): Promise<{ cluster: Cluster; actor: Principal }> {
  const cluster = await findCluster(db, id);
  if (!cluster) throw problems.notFound('cluster');
  return { cluster, actor: await guard.allow(p, action, clusterRef(cluster), 'cluster', 'cluster.read') };
}

export async function tenancyFor(db: Db, guard: Guard, p: Principal, id: string, action: string): Promise<{ tenancy: Tenancy; actor: Principal }> {
  const tenancy = await findTenancy(db, id);
  if (!tenancy) throw problems.notFound('tenancy');
  return { tenancy, actor: await guard.allow(p, action, tenancyRef(tenancy), 'tenancy', 'tenancy.read') };
}
