// A transfer's Greenlight part: the members' rooms, links, shares and settings
// move from the tenancy's Greenlight at the source to the one the transfer
// names at the target. The transfer's steps call this module:
// - when the notice starts, `readMove` reads the source's inventory (read-only)
//   so each member's notice and page list their own rooms and the new links;
// - after the recordings are verified at the target, `importMove` reads it
//   again (members kept using Greenlight during the notice), sends it through
//   the migration API (import.ts), and checks that every moved room's link
//   resolves at the target. It is idempotent and resumable: the ledger
//   (greenlight_import_ledger) records each arrival in the same transaction as
//   its audit entry, so a killed run resumes without sending or logging twice.
// The audit entries name objects by role name, opaque user ref or friendly_id,
// never by e-mail or name.
import { and, count, eq, inArray } from 'drizzle-orm';
import type { Db, Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Outbound } from '../net/outbound.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { failpoint } from '../failpoints.js';
import { greenlightFrontends, greenlightImportLedger, type GreenlightMove } from './table.js';
import { recordings as bbbRecordings } from '../inventory/table.js';
import { findFrontend, openDatabaseUrl, openSecretKeyBase } from './frontends.js';
import { problems } from '../http/problem.js';
import { readGreenlightInventory, type Inventory } from './inventory.js';
import { importToGreenlight, type ImportLedger, type ImportReport, type ObjectResult } from './import.js';
import { recordingsResyncCommand } from './resync.js';

/** The tenancy's people as the transfer sees them: its members (account and e-mail) and the members who objected. */
export interface MovePeople {
  members: Array<{ accountId: string; email: string }>;
  objectorEmails: string[];
  /** the objectors' accounts: their meetplane subject finds their Greenlight account whatever its e-mail */
  objectorIds?: string[];
  /** the tenancy: a v2 room's recordings are those meetplane's inventory lists under its meeting id */
  tenancyId?: string;
}

export interface MoveEnds {
  sourceGreenlightId: string;
  targetGreenlightId: string;
}

/** Why the Greenlight part cannot go on; the transfer's step says it in its own words (a problem, a failure). */
export class GreenlightMoveError extends Error {
  constructor(
    readonly step: 'greenlight-read' | 'greenlight-import' | 'greenlight-verify',
    message: string,
  ) {
    super(message);
    this.name = 'GreenlightMoveError';
  }
}

async function frontend(db: Executor, id: string) {
  const [row] = await db
    .select({ id: greenlightFrontends.id, baseUrl: greenlightFrontends.baseUrl, provider: greenlightFrontends.provider, version: greenlightFrontends.greenlightVersion })
    .from(greenlightFrontends)
    .where(eq(greenlightFrontends.id, id));
  return row;
}

/**
 * The front ends a new transfer moves rooms between. A tenancy whose members
 * use a Greenlight the source can read (it has a database connection) must
 * say where their rooms go: a front end of the target co-op that can receive
 * (its SECRET_KEY_BASE is set), or null to leave the rooms behind on purpose.
 */
export async function transferFrontends(
  db: Executor,
  tenancyGreenlightId: string | null,
  targetCoopId: string,
  targetGreenlight: string | null | undefined,
): Promise<{ sourceGreenlightId: string | null; targetGreenlightId: string | null }> {
  const [source] = tenancyGreenlightId
    ? await db.select({ id: greenlightFrontends.id, readable: greenlightFrontends.databaseUrlSealed }).from(greenlightFrontends).where(eq(greenlightFrontends.id, tenancyGreenlightId))
    : [];
  const invalid = (message: string) => problems.validation([{ path: 'targetGreenlight', message }]);
  if (targetGreenlight === undefined) {
    if (source?.readable)
      throw invalid("the tenancy's members use a Greenlight front end: name the target co-op's Greenlight their rooms move to (its slug), or null to leave their rooms behind");
    return { sourceGreenlightId: null, targetGreenlightId: null };
  }
  if (targetGreenlight === null) return { sourceGreenlightId: null, targetGreenlightId: null };
  if (!source) throw invalid('the tenancy names no Greenlight front end: there are no rooms to move');
  if (!source.readable) throw invalid("the tenancy's Greenlight front end has no database connection set: its rooms cannot be read");
  const target = await receivingFrontend(db, targetCoopId, targetGreenlight);
  if (typeof target === 'string') throw invalid(target);
  return { sourceGreenlightId: source.id, targetGreenlightId: target.id };
}

/** A Greenlight of the co-op that can receive rooms (v3, SECRET_KEY_BASE set), or why it cannot. */
async function receivingFrontend(db: Executor, coopId: string, ref: string): Promise<{ id: string } | string> {
  const target = await findFrontend(db, coopId, ref);
  if (!target) return 'no such Greenlight of the target co-op';
  if (!target.hasSecretKeyBase) return "that Greenlight's SECRET_KEY_BASE is not set: it cannot receive rooms";
  if (target.greenlightVersion !== 'v3') return 'rooms can move into a Greenlight v3 only';
  return { id: target.id };
}

export type GreenlightMap = Array<{ sourceId: string; targetId: string | null }>;

/**
 * A hand-over's Greenlight map, checked: each source a Greenlight of the
 * source co-op, each target one of the target co-op that can receive (or null:
 * those rooms stay), and every readable Greenlight the plan's tenancies name
 * mapped, so no tenancy's transfer stops later for want of one.
 */
export async function checkGreenlightMap(
  db: Executor,
  coops: { sourceCoopId: string; targetCoopId: string },
  entries: Array<{ source: string; target: string | null }>,
  namedByTenancies: string[],
): Promise<{ map: GreenlightMap; issues: Array<{ path: string; message: string }> }> {
  const map: GreenlightMap = [];
  const issues: Array<{ path: string; message: string }> = [];
  for (const [i, e] of entries.entries()) {
    const source = await findFrontend(db, coops.sourceCoopId, e.source);
    if (!source) issues.push({ path: `greenlights.${i}.source`, message: 'no such Greenlight of the source co-op' });
    else if (map.some((m) => m.sourceId === source.id)) issues.push({ path: `greenlights.${i}.source`, message: 'this Greenlight is mapped twice' });
    const target = e.target === null ? null : await receivingFrontend(db, coops.targetCoopId, e.target);
    if (typeof target === 'string') issues.push({ path: `greenlights.${i}.target`, message: target });
    if (source && typeof target !== 'string') map.push({ sourceId: source.id, targetId: target?.id ?? null });
  }
  const used = [...new Set(namedByTenancies)];
  const readable = used.length
    ? await db.select({ id: greenlightFrontends.id, slug: greenlightFrontends.slug, sealed: greenlightFrontends.databaseUrlSealed }).from(greenlightFrontends).where(inArray(greenlightFrontends.id, used))
    : [];
  for (const g of readable)
    if (g.sealed && !map.some((m) => m.sourceId === g.id) && !issues.length)
      issues.push({ path: 'greenlights', message: `tenancies of the plan use the Greenlight "${g.slug}": map it to a Greenlight of the target co-op their rooms move to, or to null to leave their rooms behind` });
  return { map, issues };
}

/** The new link of a room: the same friendly_id at the target Greenlight. */
export const roomLink = (targetBaseUrl: string, friendlyId: string): string => `${targetBaseUrl.replace(/\/+$/, '')}/rooms/${encodeURIComponent(friendlyId)}/join`;

/** Reads the source Greenlight's share of the tenancy; throws GreenlightMoveError('greenlight-read') saying why not. */
export async function readMove(db: Executor, box: SecretBox, ends: MoveEnds, people: MovePeople, now = new Date()): Promise<{ inventory: Inventory; move: GreenlightMove }> {
  const [source, target] = await Promise.all([frontend(db, ends.sourceGreenlightId), frontend(db, ends.targetGreenlightId)]);
  if (!source || !target) throw new GreenlightMoveError('greenlight-read', 'a Greenlight front end this transfer names was deleted');
  const url = await openDatabaseUrl(db, box, source.id);
  if (!url) throw new GreenlightMoveError('greenlight-read', "the source Greenlight has no database connection set (meetplane greenlights set ... --database-url)");
  let inventory: Inventory;
  try {
    // meetplane's `sub` is the account id: a Greenlight account signing in through meetplane carries it as external_id.
    inventory = await readGreenlightInventory(url, {
      emails: people.members.map((m) => m.email),
      objectorEmails: people.objectorEmails,
      subs: people.members.map((m) => ({ email: m.email, sub: m.accountId })),
      objectorSubs: people.objectorIds ?? [],
      provider: source.provider,
      version: source.version, // a v2 source is read into v3's terms; targets are always v3
    });
  } catch (err) {
    throw new GreenlightMoveError('greenlight-read', (err as Error).message);
  }
  const { plan, report } = inventory;
  // Greenlight v2 keeps no recordings rows: a room lists what BigBlueButton holds under its meeting id, as meetplane's inventory does.
  const perMeeting =
    source.version === 'v2' && people.tenancyId ? await recordingsByMeeting(db, people.tenancyId, plan.rooms.map((r) => r.meetingId)) : undefined;
  const recordingsOf = (meetingId: string) => (perMeeting ? (perMeeting.get(meetingId) ?? 0) : (report.recordings[meetingId]?.rows ?? 0));
  // A room's owner, as a meetplane account: by the Greenlight account's subject, else by e-mail.
  const memberIds = new Set(people.members.map((m) => m.accountId));
  const byEmail = new Map(people.members.map((m) => [m.email.toLowerCase(), m.accountId]));
  const owners = new Map(
    plan.users.map((u) => [u.email, u.login.kind === 'oidc' && memberIds.has(u.login.sub) ? u.login.sub : (byEmail.get(u.email.toLowerCase()) ?? null)]),
  );
  const move: GreenlightMove = {
    readAt: now.toISOString(),
    targetBaseUrl: target.baseUrl,
    rooms: plan.rooms.map((r) => ({
      friendlyId: r.friendlyId,
      name: r.name,
      owner: owners.get(r.ownerEmail) ?? null,
      recordings: recordingsOf(r.meetingId),
    })),
    counts: perMeeting ? { ...report.counts, recordings: [...perMeeting.values()].reduce((n, c) => n + c, 0) } : report.counts,
    roomsLeftOut: report.roomsLeftOut.length,
    sharesDropped: report.sharesDropped.length,
    usersLeftOut: report.usersLeftOut.length,
  };
  return { inventory, move };
}

/** The tenancy's recordings by meeting id, as its clusters listed them at the last inventory refresh. */
async function recordingsByMeeting(db: Executor, tenancyId: string, meetingIds: string[]): Promise<Map<string, number>> {
  if (!meetingIds.length) return new Map();
  const rows = await db
    .select({ meetingId: bbbRecordings.meetingId, n: count() })
    .from(bbbRecordings)
    .where(and(eq(bbbRecordings.tenancyId, tenancyId), inArray(bbbRecordings.meetingId, meetingIds)))
    .groupBy(bbbRecordings.meetingId);
  return new Map(rows.map((r) => [r.meetingId, r.n]));
}

/** The ledger: `has` reads it; arrivals are written by `recordOutcome`, with their audit entry. */
function dbLedger(db: Executor, transferId: string): ImportLedger {
  return {
    has: async (kind, key) =>
      (
        await db
          .select({ key: greenlightImportLedger.key })
          .from(greenlightImportLedger)
          .where(and(eq(greenlightImportLedger.transferId, transferId), eq(greenlightImportLedger.kind, kind), eq(greenlightImportLedger.key, key)))
      ).length > 0,
    record: async () => undefined,
  };
}

const ARRIVED = new Set(['created', 'arrived', 'already-there']);

/** One object's outcome: an arrival enters the ledger and the log together, once; a failure is logged. */
async function recordOutcome(db: Db, actor: Principal, transferId: string, r: ObjectResult): Promise<void> {
  await db.transaction(async (tx) => {
    if (ARRIVED.has(r.outcome)) {
      const fresh = await tx.insert(greenlightImportLedger).values({ transferId, kind: r.kind, key: r.ref }).onConflictDoNothing().returning({ key: greenlightImportLedger.key });
      if (!fresh.length) return; // arrived and logged by an earlier run
    }
    await appendAudit(tx, {
      actor,
      action: 'transfer.greenlight-object',
      subject: { type: 'transfer', id: transferId },
      outcome: ARRIVED.has(r.outcome) ? 'success' : 'failure',
      details: { kind: r.kind, ref: r.ref, result: r.outcome, ...(r.reason ? { reason: r.reason.slice(0, 300) } : {}) },
    });
  });
  failpoint('greenlight.after-object');
}

function summary(report: ImportReport): string {
  const bad = report.results.filter((r) => !ARRIVED.has(r.outcome));
  if (report.stopped) return `the import stopped: ${report.stopped}`;
  const first = bad[0]!;
  return `${bad.length} Greenlight object${bad.length === 1 ? '' : 's'} did not arrive (first: ${first.kind} ${first.ref}: ${first.outcome}${first.reason ? `, ${first.reason}` : ''})`;
}

export interface ImportDepsOfMove {
  db: Db;
  box: SecretBox;
  outbound: Outbound;
  actor: Principal;
}

/**
 * Reads the source again, imports into the target and checks every moved
 * room's link resolves there; answers the move with its outcome. Throws
 * GreenlightMoveError when an object did not arrive or a link does not resolve.
 */
export async function importMove(deps: ImportDepsOfMove, transferId: string, ends: MoveEnds, people: MovePeople): Promise<GreenlightMove> {
  const { db, box } = deps;
  const { inventory, move } = await readMove(db, box, ends, people);
  const target = (await frontend(db, ends.targetGreenlightId))!;
  const secretKeyBase = await openSecretKeyBase(db, box, target.id);
  if (!secretKeyBase) throw new GreenlightMoveError('greenlight-import', "the target Greenlight's SECRET_KEY_BASE is not set (meetplane greenlights set ... --secret-key-base)");
  const report = await importToGreenlight({ baseUrl: target.baseUrl, secretKeyBase, provider: target.provider }, inventory.plan, {
    fetch: deps.outbound.fetch,
    ledger: dbLedger(db, transferId),
    onResult: (r) => recordOutcome(db, deps.actor, transferId, r),
  });
  if (report.stopped || report.results.some((r) => !ARRIVED.has(r.outcome))) throw new GreenlightMoveError('greenlight-import', summary(report));

  // Verification: every moved room's link resolves at the target (its public page answers the room).
  let resolving = 0;
  for (const room of move.rooms) {
    const res = await deps.outbound.fetch(new URL(`api/v1/rooms/${encodeURIComponent(room.friendlyId)}/public.json`, target.baseUrl.replace(/\/*$/, '/')), {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    if (res.status !== 200) throw new GreenlightMoveError('greenlight-verify', `room ${room.friendlyId} does not resolve at the target Greenlight (its public page answered ${res.status})`);
    resolving += 1;
  }
  const count = (outcome: string) => report.results.filter((r) => r.outcome === outcome).length;
  return {
    ...move,
    imported: {
      at: new Date().toISOString(),
      created: count('created'),
      arrived: count('arrived'),
      alreadyThere: count('already-there'),
      roomsResolving: resolving,
      resyncCommand: resync(move.rooms.map((r) => r.friendlyId), target.provider),
    },
  };
}

/** The target operator's resync line; null when a friendly_id or the provider could not be put in it safely. */
function resync(friendlyIds: string[], provider: string): string | null {
  try {
    return recordingsResyncCommand(friendlyIds, provider);
  } catch {
    return null;
  }
}
