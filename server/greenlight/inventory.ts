// Reads one tenancy's share of a source Greenlight's database, strictly
// read-only, into the ImportPlan that import.ts sends to the target Greenlight.
// The queries are the version's (inventory-v3.ts, inventory-v2.ts: a v2 source
// is read into v3's terms as Greenlight's own v2 migration task does); the
// selection below is the same for both.
//
// Selection (a source Greenlight often serves several member organisations):
// - people: accounts of the source's provider (on v2 also those an identity
//   provider brought in, which hold a role of the source's provider) whose
//   e-mail, lower-cased, is one of the tenancy's members' (Greenlight lower-cases
//   e-mails and keeps them unique per provider regardless of case) or whose
//   subject is a member's; objectors are left out entirely: their account, their
//   rooms, shares to them; an account the version says cannot move (v2: pending,
//   denied, no e-mail) stays and is reported;
// - rooms: a room moves when its owner moves; a room whose owner objected stays
//   and is reported; another organisation's rooms are never read;
// - shares: a moving room keeps its shares to people who move; a share to an
//   objector or to anyone outside the tenancy is dropped and reported (by room
//   and reason, never the outsider's e-mail, which this reader never fetches);
//   a share from another organisation's room into the tenancy is not the
//   tenancy's and is not read;
// - roles: those the moving people hold, with their permissions;
// - site settings and rooms configurations: the provider's, as they are (they
//   belong to the whole Greenlight, every organisation on it sees the same);
// - recordings rows: per moving room's meeting id, for the report only (the
//   target Greenlight learns recordings from BigBlueButton, not from us; v2
//   keeps no rows).
// Values travel as Greenlight stores them: strings ("true"/"false", "ASK_MODERATOR").
//
// Read-only twice over: the session defaults to read-only transactions and every
// query runs inside one REPEATABLE READ READ ONLY transaction (one consistent
// snapshot). Errors name the host and database, never the URL or its password.
import postgres from 'postgres';
import type { ImportPlan, SourceRoom, SourceUser } from './import.js';
import type { SourceAccount, SourceReader, Tx, UserLeftOutReason } from './inventory-source.js';
import { v2Reader } from './inventory-v2.js';
import { v3Reader } from './inventory-v3.js';

export type GreenlightVersion = 'v3' | 'v2';

export interface InventorySelection {
  /** The tenancy's members' e-mails (any case). */
  emails: string[];
  /** Members who objected to the move (any case): they, their rooms and shares to them stay. */
  objectorEmails: string[];
  /**
   * The members' subjects at the identity provider (meetplane's `sub`, the account id) by e-mail: an
   * account that signs in through meetplane is the member's by its external_id, whatever e-mail it holds.
   */
  subs?: Array<{ email: string; sub: string }>;
  /** The objectors' subjects. */
  objectorSubs?: string[];
  /** The source Greenlight's provider: "greenlight" for a single-tenant Greenlight, else the tenant's name. */
  provider: string;
  /** The source Greenlight's version, as its front end records it (v3 when not said). */
  version?: GreenlightVersion;
  /** The tenancy's BigBlueButton recording IDs, to tell which Greenlight recordings rows have no recording behind them. */
  bbbRecordIds?: string[];
}

export type RoomLeftOutReason = 'its owner objected' | 'its owner does not move';
export type ShareDroppedReason = 'shared with an objector' | 'shared with someone outside the tenancy' | 'shared with an account that does not move';

export interface InventoryReport {
  counts: { roles: number; users: number; rooms: number; shares: number; recordings: number };
  /** Members with no account under this provider (nothing to move for them). */
  membersWithoutAccount: number;
  /** Objectors who hold an account here (left out with their rooms). */
  objectorsFound: number;
  /** Accounts left out although they are the tenancy's, with why (by opaque ref). */
  usersLeftOut: Array<{ ref: string; reason: UserLeftOutReason }>;
  roomsLeftOut: Array<{ friendlyId: string; reason: RoomLeftOutReason }>;
  sharesDropped: Array<{ friendlyId: string; reason: ShareDroppedReason }>;
  /** Greenlight's recordings rows of the moving rooms, by meeting id. */
  recordings: Record<string, { rows: number; recordIds: string[]; notOnBbb?: string[] }>;
  /** v2: settings whose value Greenlight v2 takes from its environment, not its database (the target keeps its own). */
  settingsNotRead?: string[];
}

export interface Inventory {
  plan: ImportPlan;
  report: InventoryReport;
}

export class InventoryError extends Error {}

/** Opens one read-only connection, runs `fn` in one read-only snapshot, closes it. Exported for the read-only test. */
export async function readOnlySnapshot<T>(databaseUrl: string, fn: (sql: Tx) => Promise<T>, tablesOf = "Greenlight v3's"): Promise<T> {
  const where = describe(databaseUrl);
  let sql: postgres.Sql;
  try {
    sql = postgres(databaseUrl, {
      max: 1,
      connect_timeout: 10,
      onnotice: () => {},
      prepare: false,
      connection: { default_transaction_read_only: 'on', application_name: 'meetplane-inventory' } as Record<string, string>,
    });
  } catch {
    throw new InventoryError(`cannot read the source Greenlight's database: ${where} is not a postgres:// URL`);
  }
  try {
    return (await sql.begin('isolation level repeatable read read only', fn)) as T;
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new InventoryError(`cannot read the source Greenlight's database ${where}: ${reason(err, tablesOf)}`);
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
  }
}

/** "database "x" on host:port", from the URL without its credentials. */
function describe(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return 'the URL';
    return `"${decodeURIComponent(u.pathname.slice(1)) || '(default)'}" on ${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return 'the URL';
  }
}

/** A fixed phrase per failure: server and driver messages are not passed on (they may echo what they were given). */
function reason(err: unknown, tablesOf: string): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case '28P01':
    case '28000':
      return 'the server refused the credentials';
    case '3D000':
      return 'no such database';
    case '42P01':
    case '42703':
      return `its tables are not ${tablesOf}`;
    case '42501':
      return 'the account may not read every table the inventory needs';
    case '25006':
      return 'a write was attempted in the read-only transaction';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'the connection timed out';
    default:
      return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `the server answered SQLSTATE ${code}` : 'the connection failed';
  }
}

const lower = (emails: string[]) => [...new Set(emails.map((e) => e.trim().toLowerCase()).filter(Boolean))];

const READERS: Record<GreenlightVersion, SourceReader> = { v3: v3Reader, v2: v2Reader };

/** Reads the tenancy's share of the source Greenlight (v3 unless the front end says v2); writes nothing. */
export async function readGreenlightInventory(databaseUrl: string, select: InventorySelection): Promise<Inventory> {
  const reader = READERS[select.version ?? 'v3'];
  return readOnlySnapshot(databaseUrl, (sql) => inventoryOf(reader, sql, select), reader.tablesOf);
}

/** The selection, whatever the version: who moves, their rooms, the shares between them. */
async function inventoryOf(reader: SourceReader, sql: Tx, select: InventorySelection): Promise<Inventory> {
  const members = lower(select.emails);
  const objectors = new Set(lower(select.objectorEmails));
  const provider = select.provider;
  const subs = [...new Set((select.subs ?? []).map((m) => m.sub))];
  const objectorSubs = new Set(select.objectorSubs ?? []);

  const accounts = await reader.accounts(sql, { provider, emails: members, subs });

  const found = new Set(accounts.flatMap((a) => (a.email ? [a.email.toLowerCase()] : [])));
  const foundSubs = new Set(accounts.flatMap((a) => (a.externalId ? [a.externalId] : [])));
  const subOf = new Map((select.subs ?? []).map((m) => [m.email.trim().toLowerCase(), m.sub]));
  // From here on people are Greenlight accounts (by id): whether one objected, by e-mail or by subject.
  const objected = (a: SourceAccount) => (a.email !== null && objectors.has(a.email.toLowerCase())) || (a.externalId !== null && objectorSubs.has(a.externalId));
  const report: InventoryReport = {
    counts: { roles: 0, users: 0, rooms: 0, shares: 0, recordings: 0 },
    membersWithoutAccount: members.filter((e) => !found.has(e) && !foundSubs.has(subOf.get(e) ?? '')).length,
    objectorsFound: accounts.filter(objected).length,
    usersLeftOut: [],
    roomsLeftOut: [],
    sharesDropped: [],
    recordings: {},
  };

  const users: SourceUser[] = [];
  const roleIds = new Set<string>();
  const accountIds = new Set(accounts.map((a) => a.id));
  const objectorIds = new Set(accounts.filter(objected).map((a) => a.id));
  const movingIds = new Set<string>();
  for (const a of accounts) {
    if (objectorIds.has(a.id)) continue;
    const ref = `gl-user-${a.id}`;
    const why = a.blocked ?? (a.login ? undefined : 'it has neither a password nor an external ID');
    if (why || !a.login || a.email === null) {
      report.usersLeftOut.push({ ref, reason: why ?? 'it has no e-mail address' });
      continue;
    }
    users.push({ ref, name: a.name, email: a.email, role: a.role ?? 'User', language: a.language, createdAt: a.createdAt, login: a.login });
    movingIds.add(a.id);
    if (a.roleId) roleIds.add(a.roleId);
  }

  const roles = roleIds.size ? await reader.roles(sql, provider, [...roleIds]) : [];

  // Rooms of the tenancy's people only: another organisation's rooms are never read.
  const roomRows = await reader.rooms(sql, [...accountIds]);
  const emailOf = new Map(users.map((u) => [u.ref, u.email]));
  const rooms = new Map<string, SourceRoom & { ownerId: string }>();
  for (const r of roomRows) {
    if (!movingIds.has(r.ownerId)) {
      report.roomsLeftOut.push({ friendlyId: r.friendlyId, reason: objectorIds.has(r.ownerId) ? 'its owner objected' : 'its owner does not move' });
      continue;
    }
    const ownerEmail = emailOf.get(`gl-user-${r.ownerId}`)!;
    rooms.set(r.id, { name: r.name, friendlyId: r.friendlyId, meetingId: r.meetingId, lastSession: r.lastSession, ownerEmail, ownerId: r.ownerId, settings: {}, sharedWithEmails: [] });
  }
  const roomIds = [...rooms.keys()];

  if (roomIds.length) {
    for (const [id, settings] of await reader.roomSettings(sql, roomIds)) rooms.get(id)!.settings = settings;

    for (const s of await reader.shares(sql, roomIds, [...accountIds])) {
      const room = rooms.get(s.roomId)!;
      if (objectorIds.has(s.userId)) report.sharesDropped.push({ friendlyId: room.friendlyId, reason: 'shared with an objector' });
      else if (!accountIds.has(s.userId)) report.sharesDropped.push({ friendlyId: room.friendlyId, reason: 'shared with someone outside the tenancy' });
      else if (!movingIds.has(s.userId) || s.memberEmail === null) report.sharesDropped.push({ friendlyId: room.friendlyId, reason: 'shared with an account that does not move' });
      // v2 may hold a local and a social account with one e-mail: at the target they are one, shared once.
      else if (s.userId !== room.ownerId && s.memberEmail !== room.ownerEmail && !room.sharedWithEmails.includes(s.memberEmail)) room.sharedWithEmails.push(s.memberEmail);
    }

    const onBbb = select.bbbRecordIds ? new Set(select.bbbRecordIds) : undefined;
    for (const rec of await reader.recordings(sql, roomIds)) {
      const entry = (report.recordings[rec.meetingId] ??= { rows: 0, recordIds: [], ...(onBbb ? { notOnBbb: [] } : {}) });
      entry.rows += 1;
      entry.recordIds.push(rec.recordId);
      if (onBbb && !onBbb.has(rec.recordId)) entry.notOnBbb!.push(rec.recordId);
    }
  }

  const { notRead, ...settings } = await reader.settings(sql, provider);
  if (notRead.length) report.settingsNotRead = notRead;

  const plan: ImportPlan = {
    roles,
    users,
    rooms: [...rooms.values()].map(({ ownerId: _, ...room }) => room),
    settings,
    objectorEmails: [...objectors],
  };
  report.counts = {
    roles: plan.roles.length,
    users: plan.users.length,
    rooms: plan.rooms.length,
    shares: plan.rooms.reduce((n, r) => n + r.sharedWithEmails.length, 0),
    recordings: Object.values(report.recordings).reduce((n, r) => n + r.rows, 0),
  };
  return { plan, report };
}
