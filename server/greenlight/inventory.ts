// Reads one tenancy's share of a source Greenlight v3's database, strictly
// read-only, into the ImportPlan that import.ts sends to the target Greenlight.
//
// Selection (a source Greenlight often serves several member organisations):
// - people: accounts of the source's provider whose e-mail, lower-cased, is one
//   of the tenancy's members' (Greenlight lower-cases e-mails on sign-up and
//   sign-in and keeps them unique per provider regardless of case); objectors
//   are left out entirely: their account, their rooms, shares to them;
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
//   target Greenlight learns recordings from BigBlueButton, not from us).
// Values travel as Greenlight stores them: strings ("true"/"false", "ASK_MODERATOR").
//
// Read-only twice over: the session defaults to read-only transactions and every
// query runs inside one REPEATABLE READ READ ONLY transaction (one consistent
// snapshot). Errors name the host and database, never the URL or its password.
import postgres from 'postgres';
import type { ImportPlan, SourceRole, SourceRoom, SourceUser } from './import.js';

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
  usersLeftOut: Array<{ ref: string; reason: 'it has neither a password nor an external ID' }>;
  roomsLeftOut: Array<{ friendlyId: string; reason: RoomLeftOutReason }>;
  sharesDropped: Array<{ friendlyId: string; reason: ShareDroppedReason }>;
  /** Greenlight's recordings rows of the moving rooms, by meeting id. */
  recordings: Record<string, { rows: number; recordIds: string[]; notOnBbb?: string[] }>;
}

export interface Inventory {
  plan: ImportPlan;
  report: InventoryReport;
}

export class InventoryError extends Error {}

type Tx = postgres.TransactionSql;

/** Opens one read-only connection, runs `fn` in one read-only snapshot, closes it. Exported for the read-only test. */
export async function readOnlySnapshot<T>(databaseUrl: string, fn: (sql: Tx) => Promise<T>): Promise<T> {
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
    throw new InventoryError(`cannot read the source Greenlight's database ${where}: ${reason(err)}`);
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
function reason(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case '28P01':
    case '28000':
      return 'the server refused the credentials';
    case '3D000':
      return 'no such database';
    case '42P01':
    case '42703':
      return "its tables are not Greenlight v3's";
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
const ISO = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'; // Rails keeps datetimes in UTC, without a zone

/** Reads the tenancy's share of the source Greenlight; writes nothing. */
export async function readGreenlightInventory(databaseUrl: string, select: InventorySelection): Promise<Inventory> {
  const members = lower(select.emails);
  const objectors = new Set(lower(select.objectorEmails));
  const movers = members.filter((e) => !objectors.has(e));
  const provider = select.provider;
  const subs = [...new Set((select.subs ?? []).map((m) => m.sub))];
  const objectorSubs = new Set(select.objectorSubs ?? []);

  return readOnlySnapshot(databaseUrl, async (sql) => {
    const accounts = await sql<
      Array<{ id: string; name: string; email: string; external_id: string | null; password_digest: string | null; language: string; created_at: string; role: string | null }>
    >`
      select u.id, u.name, u.email, u.external_id, u.password_digest, u.language, to_char(u.created_at, ${ISO}) as created_at, r.name as role
      from users u left join roles r on r.id = u.role_id
      where u.provider = ${provider} and (lower(u.email) = any(${members}::text[]) or u.external_id = any(${subs}::text[]))
      order by u.created_at, u.id`;

    const found = new Set(accounts.map((a) => a.email.toLowerCase()));
    const foundSubs = new Set(accounts.flatMap((a) => (a.external_id ? [a.external_id] : [])));
    const subOf = new Map((select.subs ?? []).map((m) => [m.email.trim().toLowerCase(), m.sub]));
    // From here on people are Greenlight accounts (by id): whether one objected, by e-mail or by subject.
    const objected = (a: { email: string; external_id: string | null }) => objectors.has(a.email.toLowerCase()) || (a.external_id !== null && objectorSubs.has(a.external_id));
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
    const roleNames = new Set<string>();
    const memberIds = accounts.map((a) => a.id);
    const objectorIds = new Set(accounts.filter(objected).map((a) => a.id));
    const movingIds = new Set<string>();
    for (const a of accounts) {
      if (objectorIds.has(a.id)) continue;
      const ref = `gl-user-${a.id}`;
      // external_id wins: Greenlight treats such an account as the identity provider's, whatever digest it kept.
      const login = a.external_id ? ({ kind: 'oidc', sub: a.external_id } as const) : a.password_digest ? ({ kind: 'local', passwordDigest: a.password_digest } as const) : undefined;
      if (!login) {
        report.usersLeftOut.push({ ref, reason: 'it has neither a password nor an external ID' });
        continue;
      }
      users.push({ ref, name: a.name, email: a.email, role: a.role ?? 'User', language: a.language, createdAt: a.created_at, login });
      movingIds.add(a.id);
      if (a.role) roleNames.add(a.role);
    }

    const roleRows = roleNames.size
      ? await sql<Array<{ role: string; permission: string | null; value: string | null }>>`
          select r.name as role, p.name as permission, rp.value
          from roles r left join role_permissions rp on rp.role_id = r.id left join permissions p on p.id = rp.permission_id
          where r.provider = ${provider} and r.name = any(${[...roleNames]}::text[])
          order by r.name, p.name`
      : [];
    const roles = new Map<string, SourceRole>();
    for (const row of roleRows) {
      const role = roles.get(row.role) ?? { name: row.role, permissions: {} };
      if (row.permission && row.value !== null) role.permissions[row.permission] = row.value;
      roles.set(row.role, role);
    }

    // Rooms of the tenancy's people only: another organisation's rooms are never read.
    const roomRows = await sql<Array<{ id: string; name: string; friendly_id: string; meeting_id: string; last_session: string | null; owner_id: string; owner_email: string }>>`
      select r.id, r.name, r.friendly_id, r.meeting_id, to_char(r.last_session, ${ISO}) as last_session, u.id as owner_id, u.email as owner_email
      from rooms r join users u on u.id = r.user_id
      where u.id = any(${memberIds}::uuid[])
      order by r.created_at, r.friendly_id`;
    const rooms = new Map<string, SourceRoom>();
    for (const r of roomRows) {
      if (!movingIds.has(r.owner_id)) {
        report.roomsLeftOut.push({ friendlyId: r.friendly_id, reason: objectorIds.has(r.owner_id) ? 'its owner objected' : 'its owner does not move' });
        continue;
      }
      rooms.set(r.id, { name: r.name, friendlyId: r.friendly_id, meetingId: r.meeting_id, lastSession: r.last_session, ownerEmail: r.owner_email, settings: {}, sharedWithEmails: [] });
    }
    const roomIds = [...rooms.keys()];

    if (roomIds.length) {
      const options = await sql<Array<{ room_id: string; name: string; value: string | null }>>`
        select rmo.room_id, mo.name, rmo.value
        from room_meeting_options rmo join meeting_options mo on mo.id = rmo.meeting_option_id
        where rmo.room_id = any(${roomIds}::uuid[]) and mo.name is not null
        order by mo.name`;
      for (const o of options) if (o.value !== null) rooms.get(o.room_id)!.settings[o.name] = o.value;

      // A sharee's e-mail is fetched only when it is one of the tenancy's members: an outsider's never leaves the source.
      const shares = await sql<Array<{ room_id: string; user_id: string; member_email: string | null }>>`
        select sa.room_id, sa.user_id, case when u.id = any(${memberIds}::uuid[]) then u.email end as member_email
        from shared_accesses sa join users u on u.id = sa.user_id
        where sa.room_id = any(${roomIds}::uuid[])
        order by sa.created_at, sa.id`;
      for (const s of shares) {
        const room = rooms.get(s.room_id)!;
        if (s.member_email === null) report.sharesDropped.push({ friendlyId: room.friendlyId, reason: 'shared with someone outside the tenancy' });
        else if (objectorIds.has(s.user_id)) report.sharesDropped.push({ friendlyId: room.friendlyId, reason: 'shared with an objector' });
        else if (!movingIds.has(s.user_id)) report.sharesDropped.push({ friendlyId: room.friendlyId, reason: 'shared with an account that does not move' });
        else if (s.member_email !== room.ownerEmail) room.sharedWithEmails.push(s.member_email);
      }

      const recordings = await sql<Array<{ meeting_id: string; record_id: string }>>`
        select r.meeting_id, rec.record_id
        from recordings rec join rooms r on r.id = rec.room_id
        where rec.room_id = any(${roomIds}::uuid[])
        order by r.meeting_id, rec.recorded_at nulls last, rec.record_id`;
      const onBbb = select.bbbRecordIds ? new Set(select.bbbRecordIds) : undefined;
      for (const rec of recordings) {
        const entry = (report.recordings[rec.meeting_id] ??= { rows: 0, recordIds: [], ...(onBbb ? { notOnBbb: [] } : {}) });
        entry.rows += 1;
        entry.recordIds.push(rec.record_id);
        if (onBbb && !onBbb.has(rec.record_id)) entry.notOnBbb!.push(rec.record_id);
      }
    }

    const siteSettings = await sql<Array<{ name: string; value: string }>>`
      select s.name, ss.value from site_settings ss join settings s on s.id = ss.setting_id
      where ss.provider = ${provider} and s.name is not null order by s.name`;
    const configurations = await sql<Array<{ name: string; value: string }>>`
      select mo.name, rc.value from rooms_configurations rc join meeting_options mo on mo.id = rc.meeting_option_id
      where rc.provider = ${provider} and mo.name is not null order by mo.name`;

    const plan: ImportPlan = {
      roles: [...roles.values()],
      users,
      rooms: [...rooms.values()],
      settings: {
        siteSettings: Object.fromEntries(siteSettings.map((s) => [s.name, s.value])),
        roomsConfigurations: Object.fromEntries(configurations.map((c) => [c.name, c.value])),
      },
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
  });
}
