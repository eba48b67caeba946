// The interim permission rule (until the roles issue moves every decision into
// Cedar policies): a platform admin may do everything; any other principal may
// only read what belongs to its own co-op. Objects of another co-op answer 404,
// exactly like missing ones, so ids never reveal what exists elsewhere.
import type { Principal } from './principal.js';
import { problems } from '../http/problem.js';

export function canSee(p: Principal, coopId: string | null): boolean {
  return p.platformAdmin || (coopId !== null && p.coopId === coopId);
}

/** Throws 404 when the principal may not see the object. */
export function ensureVisible(p: Principal, coopId: string | null, what: string): void {
  if (!canSee(p, coopId)) throw problems.notFound(what);
}

/** Throws 404 when invisible, 403 when visible but not changeable. */
export function ensureWritable(p: Principal, coopId: string | null, what: string): void {
  ensureVisible(p, coopId, what);
  if (!p.platformAdmin) throw problems.forbidden(`only a platform admin may change ${what} for now`);
}

/** For creations: the target co-op must be visible, and only admins create. */
export function ensureAdmin(p: Principal, action: string): void {
  if (!p.platformAdmin) throw problems.forbidden(`only a platform admin may ${action} for now`);
}

/** Restricts list queries to the principal's co-op, unless platform admin. */
export function visibleCoop(p: Principal): string | null | 'all' {
  return p.platformAdmin ? 'all' : p.coopId;
}
