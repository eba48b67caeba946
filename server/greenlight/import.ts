// Moves a tenancy's Greenlight objects into a target Greenlight v3 through its
// migration API (POST /api/v1/migrations/{roles,users,rooms,settings}.json),
// in the order Greenlight needs: roles, users, rooms, settings.
//
// Greenlight's answers are no guide to what already arrived (a re-sent room
// with shares answers 400, a re-sent mixed-case e-mail 400, an existing
// friendly_id silently reuses *that* room), so idempotency is ours:
// - before a room is sent, its public page (/api/v1/rooms/<friendly_id>/public.json)
//   says whether the friendly_id is free, already ours, or another room's (refused);
// - a ledger remembers what arrived, so a re-run sends nothing that did;
// - roles, users and settings are safe to re-send: Greenlight never updates an
//   existing user, and role and settings updates set the same values again.
// Every request leaves through the given fetch (the Outbound door).
import { z } from 'zod';
import { encryptAndSign } from './envelope.js';
import type { RubyValue } from './marshal.js';

/** The target Greenlight: where it is, the key its SECRET_KEY_BASE gives, and the provider its accounts belong to. */
export interface GreenlightTarget {
  baseUrl: string;
  secretKeyBase: string;
  /** "greenlight" for a single-tenant Greenlight, else the tenant's name. */
  provider: string;
}

export type Scalar = string | boolean | number;

export interface SourceRole {
  name: string;
  /** Greenlight v3 permission names (CreateRoom, CanRecord, ...). */
  permissions: Record<string, Scalar>;
}

export interface SourceUser {
  /** An opaque, stable reference for reports and audit (no personal data). */
  ref: string;
  name: string;
  /** Exactly as the source holds it: Greenlight matches owners and shares by exact e-mail. */
  email: string;
  role: string;
  language?: string;
  createdAt?: string;
  /** local: a Greenlight password (its bcrypt digest travels as is); oidc: signs in through meetplane, external_id = sub. */
  login: { kind: 'local'; passwordDigest: string } | { kind: 'oidc'; sub: string };
}

export interface SourceRoom {
  name: string;
  friendlyId: string;
  meetingId: string;
  lastSession?: string | null;
  ownerEmail: string;
  /** Meeting options by Greenlight name (record, muteOnStart, guestPolicy, glAnyoneCanStart, ...). */
  settings: Record<string, Scalar>;
  sharedWithEmails: string[];
}

export interface SourceSettings {
  siteSettings: Record<string, Scalar>;
  roomsConfigurations: Record<string, Scalar>;
}

export interface ImportPlan {
  roles: SourceRole[];
  users: SourceUser[];
  rooms: SourceRoom[];
  settings?: SourceSettings;
  /** E-mails of members who objected to the move: they, their rooms and shares to them stay out. */
  objectorEmails: string[];
}

/** Remembers what arrived at the target, so a re-run (or a resumed run) does not send it again. */
export interface ImportLedger {
  has(kind: ObjectKind, key: string): Promise<boolean>;
  record(kind: ObjectKind, key: string): Promise<void>;
}
export type ObjectKind = 'role' | 'user' | 'room' | 'settings';

export function memoryLedger(): ImportLedger & { entries: Set<string> } {
  const entries = new Set<string>();
  return {
    entries,
    has: async (kind, key) => entries.has(`${kind}:${key}`),
    record: async (kind, key) => void entries.add(`${kind}:${key}`),
  };
}

/**
 * created: made by this call (a room whose friendly_id was free, a role, the settings);
 * arrived: a user Greenlight answered 201 for (it never says whether it made it or had it);
 * already-there: arrived earlier (the ledger or the target says so), nothing sent.
 */
export type Outcome = 'created' | 'arrived' | 'already-there' | 'refused' | 'failed';

/** One object's fate; `ref` is a role name, a user's opaque ref, a friendly_id or "settings": never an e-mail. */
export interface ObjectResult {
  kind: ObjectKind;
  ref: string;
  outcome: Outcome;
  reason?: string;
}

export interface ImportReport {
  results: ObjectResult[];
  left: { users: number; rooms: number; shares: number };
  /** Set when the import stopped early: every further message would be refused the same way. */
  stopped?: string;
}

export interface ImportDeps {
  fetch: (url: string | URL, init?: RequestInit) => Promise<Response>;
  ledger: ImportLedger;
  now?: () => Date;
  onResult?: (result: ObjectResult) => void | Promise<void>;
}

/** Roles every Greenlight seeds: their permissions are the target operator's, never overwritten. */
const BUILT_IN_ROLES = new Set(['Administrator', 'User', 'Guest', 'SuperAdmin']);
const REJECTED = 'the target refused the message: wrong SECRET_KEY_BASE, or its clock is more than 10 s ahead';

const errorBody = z.object({ errors: z.union([z.string(), z.array(z.unknown())]).optional() }).passthrough();
const publicRoom = z.object({
  data: z.object({ name: z.string(), friendly_id: z.string(), owner_name: z.string(), shared_user_ids: z.array(z.unknown()) }).passthrough(),
});
type PublicRoom = z.infer<typeof publicRoom>['data'];

class Stop extends Error {}

/** Booleans and numbers as the strings Greenlight stores (true would land as "t"). */
function strings(values: Record<string, Scalar>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v)]));
}

class Client {
  #skewMs = 0;
  constructor(
    readonly target: GreenlightTarget,
    readonly deps: ImportDeps,
  ) {}

  url(path: string): string {
    return new URL(path, this.target.baseUrl.endsWith('/') ? this.target.baseUrl : `${this.target.baseUrl}/`).toString();
  }

  /** Greenlight checks expiry on its own clock: learn its offset from a Date header (seconds resolution). */
  learnClock(res: Response): void {
    const date = res.headers.get('date');
    const at = date ? Date.parse(date) : NaN;
    if (Number.isNaN(at)) return;
    const skew = at - this.#now().getTime();
    this.#skewMs = Math.abs(skew) > 2000 ? skew : 0;
  }

  #now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** The public room page: the room, or undefined when the friendly_id is free. */
  async room(friendlyId: string): Promise<PublicRoom | undefined> {
    const res = await this.deps.fetch(this.url(`api/v1/rooms/${encodeURIComponent(friendlyId)}/public.json`), {
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    this.learnClock(res);
    if (res.status === 404) return void (await res.body?.cancel());
    if (res.status !== 200) throw new Stop(`the target's public room page answered ${res.status}`);
    const parsed = publicRoom.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new Stop("the target's public room page is not Greenlight v3's");
    return parsed.data.data;
  }

  /** POSTs one encrypted migration message; answers the status and Greenlight's errors as text. */
  async send(path: 'roles' | 'users' | 'rooms' | 'settings', params: RubyValue): Promise<{ ok: boolean; status: number; errors: string }> {
    const message = encryptAndSign(params, this.target.secretKeyBase, { now: new Date(this.#now().getTime() + this.#skewMs) });
    const res = await this.deps.fetch(this.url(`api/v1/migrations/${path}.json`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ v2: { encrypted_params: message } }),
      redirect: 'error',
    });
    this.learnClock(res);
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('application/json')) {
      await res.body?.cancel();
      throw new Stop(`the target answered ${res.status} with a web page, not the migration API (is it Greenlight v3 at that URL?)`);
    }
    const body = errorBody.safeParse(await res.json().catch(() => undefined));
    const raw = body.success ? body.data.errors : undefined;
    const errors = raw === undefined ? '' : typeof raw === 'string' ? raw : raw.map(String).join('; ');
    if (res.status === 400 && errors === 'InvalidParams') throw new Stop(REJECTED);
    return { ok: res.status === 201, status: res.status, errors };
  }
}

/** Runs the import; never throws for what Greenlight answers (the report says it), only for programming errors. */
export async function importToGreenlight(target: GreenlightTarget, plan: ImportPlan, deps: ImportDeps): Promise<ImportReport> {
  const client = new Client(target, deps);
  const report: ImportReport = { results: [], left: { users: 0, rooms: 0, shares: 0 } };
  const note = async (r: ObjectResult) => {
    report.results.push(r);
    await deps.onResult?.(r);
  };
  const provider = target.provider;

  // Who moves: everyone but the objectors; their rooms stay, and shares to them or to anyone not moving are dropped.
  const objectors = new Set(plan.objectorEmails.map((e) => e.toLowerCase()));
  const users = plan.users.filter((u) => !objectors.has(u.email.toLowerCase()));
  const moving = new Set(users.map((u) => u.email));
  const rooms = plan.rooms.filter((r) => moving.has(r.ownerEmail));
  report.left.users = plan.users.length - users.length;
  report.left.rooms = plan.rooms.length - rooms.length;

  try {
    // A first look at the target: its clock (for the 10-second expiry) and whether it speaks Greenlight v3.
    await client.room(rooms[0]?.friendlyId ?? 'meetplane-probe');

    for (const role of plan.roles) {
      if (await deps.ledger.has('role', role.name)) {
        await note({ kind: 'role', ref: role.name, outcome: 'already-there' });
        continue;
      }
      const permissions = BUILT_IN_ROLES.has(role.name) ? {} : strings(role.permissions);
      const res = await client.send('roles', { role: { name: role.name, provider, role_permissions: permissions } });
      if (res.ok) await deps.ledger.record('role', role.name);
      await note({ kind: 'role', ref: role.name, outcome: res.ok ? 'created' : 'failed', ...(res.ok ? {} : { reason: res.errors || `HTTP ${res.status}` }) });
    }

    const arrived = new Set<string>();
    for (const user of users) {
      if (await deps.ledger.has('user', user.ref)) {
        arrived.add(user.email);
        await note({ kind: 'user', ref: user.ref, outcome: 'already-there' });
        continue;
      }
      const res = await client.send('users', {
        user: {
          name: user.name,
          email: user.email,
          provider,
          role: user.role,
          language: user.language ?? 'default',
          ...(user.createdAt ? { created_at: user.createdAt } : {}),
          ...(user.login.kind === 'local' ? { password_digest: user.login.passwordDigest } : { external_id: user.login.sub }),
        },
      });
      // A user that exists answers 201, or 400 "Email has already been taken" when the e-mail has capitals.
      const taken = res.status === 400 && /has already been taken/.test(res.errors) && /email/i.test(res.errors);
      if (res.ok || taken) {
        arrived.add(user.email);
        await deps.ledger.record('user', user.ref);
      }
      await note({ kind: 'user', ref: user.ref, outcome: res.ok ? 'arrived' : taken ? 'already-there' : 'failed', ...(res.ok || taken ? {} : { reason: res.errors || `HTTP ${res.status}` }) });
    }

    for (const room of rooms) {
      const shares = room.sharedWithEmails.filter((e) => moving.has(e) && e !== room.ownerEmail);
      report.left.shares += room.sharedWithEmails.length - shares.length;
      const owner = users.find((u) => u.email === room.ownerEmail)!;
      if (!arrived.has(owner.email)) {
        await note({ kind: 'room', ref: room.friendlyId, outcome: 'failed', reason: 'its owner did not arrive' });
        continue;
      }
      const expectedShares = shares.filter((e) => arrived.has(e));
      const params = {
        room: {
          name: room.name,
          friendly_id: room.friendlyId,
          meeting_id: room.meetingId,
          ...(room.lastSession ? { last_session: room.lastSession } : {}),
          owner_email: room.ownerEmail,
          provider,
          room_settings: strings(room.settings),
          shared_users_emails: expectedShares,
        },
      };
      const there = await client.room(room.friendlyId);
      if (there) {
        const ours = (await deps.ledger.has('room', room.friendlyId)) || (there.owner_name === owner.name && there.name === room.name);
        if (!ours) {
          await note({ kind: 'room', ref: room.friendlyId, outcome: 'refused', reason: 'this friendly_id belongs to another room at the target' });
          continue;
        }
        if (there.shared_user_ids.length < expectedShares.length) {
          // Shares missing (an interrupted run): a re-send adds them (Greenlight answers 400 for those already there).
          await client.send('rooms', params);
          const after = await client.room(room.friendlyId);
          if (!after || after.shared_user_ids.length < expectedShares.length) {
            await note({ kind: 'room', ref: room.friendlyId, outcome: 'failed', reason: 'its shares did not all arrive' });
            continue;
          }
        }
        await deps.ledger.record('room', room.friendlyId);
        await note({ kind: 'room', ref: room.friendlyId, outcome: 'already-there' });
        continue;
      }
      const res = await client.send('rooms', params);
      // The friendly_id was free a moment ago: the room is ours now, whatever the shares answered; check it resolves.
      const after = res.ok ? await client.room(room.friendlyId) : undefined;
      if (res.ok && after) {
        await deps.ledger.record('room', room.friendlyId);
        await note({ kind: 'room', ref: room.friendlyId, outcome: 'created' });
      } else if (res.ok) {
        // Greenlight reuses a friendly_id from any provider; the public page shows this provider's rooms only.
        await note({ kind: 'room', ref: room.friendlyId, outcome: 'failed', reason: 'accepted, but its link does not resolve at the target (is the friendly_id another tenant\'s?)' });
      } else {
        await note({ kind: 'room', ref: room.friendlyId, outcome: 'failed', reason: res.errors || `HTTP ${res.status}` });
      }
    }

    if (plan.settings && (await deps.ledger.has('settings', 'settings'))) {
      await note({ kind: 'settings', ref: 'settings', outcome: 'already-there' });
    } else if (plan.settings) {
      const res = await client.send('settings', {
        settings: { provider, site_settings: strings(plan.settings.siteSettings), rooms_configurations: strings(plan.settings.roomsConfigurations) },
      });
      if (res.ok) await deps.ledger.record('settings', 'settings');
      await note({ kind: 'settings', ref: 'settings', outcome: res.ok ? 'created' : 'failed', ...(res.ok ? {} : { reason: res.errors || `HTTP ${res.status}` }) });
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    report.stopped = err.message;
  }
  return report;
}
