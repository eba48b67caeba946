// A Greenlight v3 double on a loopback port: the migration API and the public
// room page, following Greenlight's own code (bigbluebutton/greenlight at
// 15db765b7fab10414df1a838ae8b3501b215cec4: config/routes.rb,
// app/controllers/api/v1/migrations/external_controller.rb, api_controller.rb,
// concerns/authorizable.rb, rooms_controller.rb#public_show and the models'
// validations) and Rails 7.2's MessageEncryptor. It keeps what the controller
// would create, with the same uniqueness rules and the same quirks:
// - without `.json` and `Accept: application/json` it answers 200 with the web page and migrates nothing;
// - an expired message and a wrong key both answer 400 {"errors":["InvalidParams"]};
// - values land in string columns: true becomes "t", false "f" (so booleans must travel as "true"/"false");
// - unknown keys and non-scalar values are dropped (strong parameters);
// - a missing role_permissions / room_settings / shared_users_emails / site_settings /
//   rooms_configurations answers 500 after the role or room was saved;
// - an existing user is never updated (201 when the lower-cased e-mail matches exactly,
//   400 "Email has already been taken" when it only matches case-insensitively);
// - owners and shares are looked up by exact e-mail; unknown share e-mails are skipped;
// - a friendly_id that exists anywhere is reused, whoever owns it; a re-sent share is 400;
// - a meeting_id used by another room is 400.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decryptAndVerify, InvalidMessage } from '../../server/greenlight/envelope.js';
import { RubyHash, RubySymbol, type RubyValue } from '../../server/greenlight/marshal.js';

export interface GlRole { id: string; name: string; provider: string; permissions: Map<string, string> }
export interface GlUser {
  id: string;
  name: string;
  email: string;
  provider: string;
  external_id: string | null;
  password_digest: string | null;
  language: string;
  role_id: string;
  created_at: string | null;
}
export interface GlRoom {
  id: string;
  name: string;
  friendly_id: string;
  meeting_id: string;
  last_session: string | null;
  user_id: string;
  settings: Map<string, string>;
  shared_user_ids: string[];
}

const PERMISSIONS = ['CreateRoom', 'CanRecord', 'ManageUsers', 'ManageRoles', 'ManageRooms', 'ManageRecordings', 'ManageSiteSettings', 'SharedList', 'RoomLimit'];
const MEETING_OPTIONS: Record<string, string> = {
  record: 'false',
  muteOnStart: 'false',
  guestPolicy: 'ALWAYS_ACCEPT',
  glAnyoneCanStart: 'false',
  glAnyoneJoinAsModerator: 'false',
  glViewerAccessCode: '',
  glModeratorAccessCode: '',
  glRequireAuthentication: 'false',
};
const SITE_SETTINGS: Record<string, string> = {
  PrimaryColor: '#467fcf',
  PrimaryColorLight: '#e8eff9',
  Terms: '',
  PrivacyPolicy: '',
  RegistrationMethod: 'open',
  ShareRooms: 'true',
  PreloadPresentation: 'false',
};
const ROOMS_CONFIGURATIONS: Record<string, string> = {
  record: 'default_enabled',
  muteOnStart: 'optional',
  guestPolicy: 'optional',
  glAnyoneCanStart: 'optional',
  glAnyoneJoinAsModerator: 'optional',
  glRequireAuthentication: 'optional',
};

class HttpAnswer {
  constructor(readonly status: number, readonly body: unknown) {}
}
const error = (status: number, errors: unknown) => new HttpAnswer(status, { errors });
const created = () => new HttpAnswer(201, { data: {} });
const PARAMS_MISSING = () => error(400, ['InvalidParams']);
const SERVER_ERROR = () => error(500, ['SomethingWentWrong']);

type Params = { [key: string]: Param };
type Param = string | number | boolean | null | Param[] | Params;

/** A Marshal-decoded value as ActionController::Parameters sees it: keys by name, Symbols as names. */
function indifferent(v: RubyValue): Param {
  if (v instanceof RubyHash) {
    const out: Params = {};
    for (const [k, e] of v.entries) out[k instanceof RubySymbol ? k.name : String(k)] = indifferent(e);
    return out;
  }
  if (v instanceof RubySymbol) return v.name;
  if (Array.isArray(v)) return v.map(indifferent);
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return v as Param;
}

const isHash = (v: Param | undefined): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: Param | undefined): v is string | number | boolean | null => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** params.require(key): missing or blank is ParameterMissing (400). */
function require(params: Params, key: string): Param {
  const v = params[key];
  if (v === undefined || v === null || v === '' || (isHash(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0)) throw PARAMS_MISSING();
  return v;
}

type Permit = Array<string | { [key: string]: string[] | 'array' }>;
/** permit(...): scalars for plain keys, hashes of scalars for nested key lists, arrays of scalars for []. */
function permit(v: Param, spec: Permit): Params {
  if (!isHash(v)) throw SERVER_ERROR(); // NoMethodError on a String: 500
  const out: Params = {};
  for (const rule of spec) {
    if (typeof rule === 'string') {
      if (rule in v && isScalar(v[rule])) out[rule] = v[rule]!;
      continue;
    }
    for (const [key, inner] of Object.entries(rule)) {
      const value = v[key];
      if (inner === 'array') {
        if (Array.isArray(value)) out[key] = value.filter(isScalar);
      } else if (isHash(value)) {
        const h: Params = {};
        for (const name of inner) if (name in value && isScalar(value[name])) h[name] = value[name]!;
        out[key] = h;
      }
    }
  }
  return out;
}

/** A string column's cast (ActiveModel::Type::String): true → "t", false → "f". */
function column(v: Param | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (v === true) return 't';
  if (v === false) return 'f';
  return String(v);
}

const EMAIL = /^[\w\-.+]+@[\w\-.]+\.[a-z]+$/i;

export interface GreenlightDoubleOptions {
  secretKeyBase: string;
  /** Tenants (providers besides "greenlight") this Greenlight knows. */
  tenants?: string[];
  /** The provider the public pages answer for (current_provider); "greenlight" unless multi-tenant. */
  currentProvider?: string;
  /** This Greenlight's clock (for message expiry). */
  now?: () => Date;
  /** Send a Date header (from this Greenlight's clock); default true. */
  dateHeader?: boolean;
}

export class GreenlightDouble {
  readonly roles: GlRole[] = [];
  readonly users: GlUser[] = [];
  readonly rooms: GlRoom[] = [];
  readonly siteSettings = new Map<string, Map<string, string>>();
  readonly roomsConfigurations = new Map<string, Map<string, string>>();
  /** Every request seen: method, path and status. */
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  readonly tenants: Set<string>;
  url = '';
  now: () => Date;
  readonly #server: Server;
  readonly #secretKeyBase: string;
  readonly #currentProvider: string;
  readonly #dateHeader: boolean;
  // Indexes over the rows above (the database's unique indexes), so a large import is not measured against linear scans.
  readonly #userByKey = new Map<string, GlUser>(); // provider + exact e-mail
  readonly #userByFoldedKey = new Map<string, GlUser>(); // provider + lower-cased e-mail
  readonly #userById = new Map<string, GlUser>();
  readonly #roomByFriendlyId = new Map<string, GlRoom>();
  readonly #meetingIds = new Set<string>();

  constructor(options: GreenlightDoubleOptions) {
    this.#secretKeyBase = options.secretKeyBase;
    this.tenants = new Set(options.tenants ?? []);
    this.#currentProvider = options.currentProvider ?? 'greenlight';
    this.now = options.now ?? (() => new Date());
    this.#dateHeader = options.dateHeader ?? true;
    for (const provider of ['greenlight', ...this.tenants]) {
      // db/seeds: the default roles (their permissions are seeded, not created by the model)
      for (const name of ['Administrator', 'User', 'Guest']) this.roles.push({ id: randomUUID(), name, provider, permissions: new Map(PERMISSIONS.map((p) => [p, 'true'])) });
      this.siteSettings.set(provider, new Map(Object.entries(SITE_SETTINGS)));
      this.roomsConfigurations.set(provider, new Map(Object.entries(ROOMS_CONFIGURATIONS)));
    }
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  userByEmail(email: string, provider = 'greenlight'): GlUser | undefined {
    return this.#userByKey.get(`${provider}\n${email}`);
  }
  roomByFriendlyId(friendlyId: string): GlRoom | undefined {
    return this.#roomByFriendlyId.get(friendlyId);
  }
  /** A room made at the target outside the migration (by a user of the target). */
  addRoom(room: { name: string; friendly_id: string; meeting_id: string; owner: GlUser }): GlRoom {
    const r: GlRoom = { id: randomUUID(), name: room.name, friendly_id: room.friendly_id, meeting_id: room.meeting_id, last_session: null, user_id: room.owner.id, settings: new Map(Object.entries(MEETING_OPTIONS)), shared_user_ids: [] };
    this.#saveRoom(r);
    return r;
  }
  addUser(user: { name: string; email: string; provider?: string; role?: string }): GlUser {
    const provider = user.provider ?? 'greenlight';
    const role = this.roles.find((r) => r.name === (user.role ?? 'User') && r.provider === provider)!;
    const u: GlUser = { id: randomUUID(), name: user.name, email: user.email, provider, external_id: null, password_digest: null, language: 'en', role_id: role.id, created_at: null };
    this.#saveUser(u);
    return u;
  }

  #saveUser(u: GlUser): void {
    this.users.push(u);
    this.#userByKey.set(`${u.provider}\n${u.email}`, u);
    this.#userByFoldedKey.set(`${u.provider}\n${u.email.toLowerCase()}`, u);
    this.#userById.set(u.id, u);
  }
  #saveRoom(r: GlRoom): void {
    this.rooms.push(r);
    this.#roomByFriendlyId.set(r.friendly_id, r);
    this.#meetingIds.add(r.meeting_id);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://greenlight');
    let answer: HttpAnswer | string;
    try {
      answer = this.#route(req, url, Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      answer = err instanceof HttpAnswer ? err : SERVER_ERROR();
    }
    const status = typeof answer === 'string' ? 200 : answer.status;
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status });
    if (!this.#dateHeader) res.sendDate = false;
    const date = this.#dateHeader ? { date: this.now().toUTCString() } : {};
    if (typeof answer === 'string') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...date });
      res.end(answer);
    } else {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...date });
      res.end(JSON.stringify(answer.body));
    }
  }

  #route(req: IncomingMessage, url: URL, body: string): HttpAnswer | string {
    const m = /^\/api\/v1\/(?:migrations\/(roles|users|rooms|settings)|rooms\/([^/]+)\/public)(\.json)?$/.exec(url.pathname);
    if (!m) return error(404, ['RecordNotFound']);
    // Authorizable#valid_api_request?: format json (from the extension, else the Accept header) and Accept naming JSON
    const accept = req.headers.accept ?? '';
    const format = m[3] ? 'json' : accept.split(',')[0]?.trim().startsWith('application/json') ? 'json' : 'html';
    if (format !== 'json' || !accept.includes('application/json')) return '<!DOCTYPE html><html><body><div id="root"></div></body></html>';
    if (m[2] !== undefined) {
      if (req.method !== 'GET') return error(404, ['RecordNotFound']);
      return this.#publicRoom(decodeURIComponent(m[2]));
    }
    if (req.method !== 'POST') return error(404, ['RecordNotFound']);
    const params = this.#decrypted(req, body);
    switch (m[1]) {
      case 'roles':
        return this.#createRole(permit(require(params, 'role'), ['name', 'provider', { role_permissions: PERMISSIONS.slice(0, 7) }]));
      case 'users':
        return this.#createUser(permit(require(params, 'user'), ['name', 'email', 'password_digest', 'provider', 'external_id', 'language', 'role', 'created_at']));
      case 'rooms':
        return this.#createRoom(
          permit(require(params, 'room'), [
            'name', 'friendly_id', 'meeting_id', 'last_session', 'owner_email', 'provider',
            { shared_users_emails: 'array' },
            { room_settings: ['record', 'muteOnStart', 'guestPolicy', 'glAnyoneCanStart', 'glAnyoneJoinAsModerator', 'glViewerAccessCode', 'glModeratorAccessCode'] },
          ]),
        );
      default:
        return this.#createSettings(
          permit(require(params, 'settings'), [
            'provider',
            { site_settings: ['PrimaryColor', 'PrimaryColorLight', 'Terms', 'PrivacyPolicy', 'RegistrationMethod', 'ShareRooms', 'PreloadPresentation'] },
            { rooms_configurations: ['record', 'muteOnStart', 'guestPolicy', 'glAnyoneCanStart', 'glAnyoneJoinAsModerator', 'glRequireAuthentication'] },
          ]),
        );
    }
  }

  /** ExternalController#decrypted_params. */
  #decrypted(req: IncomingMessage, body: string): Params {
    let json: Params = {};
    if ((req.headers['content-type'] ?? '').includes('application/json')) {
      try {
        json = JSON.parse(body) as Params;
      } catch {
        throw error(400, ['InvalidParams']); // ActionDispatch::Http::Parameters::ParseError
      }
    }
    if (!isHash(json)) json = {};
    const v2 = require(json, 'v2');
    const encrypted = isHash(v2) ? require(v2, 'encrypted_params') : undefined;
    if (typeof encrypted !== 'string') throw PARAMS_MISSING(); // InvalidMessage
    let value: RubyValue | null;
    try {
      value = decryptAndVerify(encrypted, this.#secretKeyBase, { now: this.now() });
    } catch (err) {
      if (err instanceof InvalidMessage) throw PARAMS_MISSING();
      throw err;
    }
    if (value === null) return {}; // expired: `|| {}`, then require(...) fails with the same 400
    if (!(value instanceof RubyHash)) throw PARAMS_MISSING();
    return indifferent(value) as Params;
  }

  #providerKnown(provider: Param | undefined): boolean {
    return provider === 'greenlight' || (typeof provider === 'string' && this.tenants.has(provider));
  }

  #createRole(role: Params): HttpAnswer {
    if (!this.#providerKnown(role.provider)) return error(400, 'Provider does not exist');
    const name = column(role.name);
    const provider = String(role.provider);
    const perms = role.role_permissions as Params | undefined;
    let existing = this.roles.find((r) => r.name === name && r.provider === provider);
    if (existing) {
      if (perms === undefined) throw SERVER_ERROR(); // nil.empty?
      if (Object.keys(perms).length === 0) return created();
    } else {
      const errors: string[] = [];
      if (!name) errors.push("Name can't be blank");
      else if (this.roles.some((r) => r.name.toLowerCase() === name.toLowerCase() && r.provider === provider)) errors.push('Name has already been taken');
      if (errors.length || !name) return error(400, errors);
      const made: GlRole = { id: randomUUID(), name, provider, permissions: new Map() };
      if (!['Administrator', 'User', 'Guest', 'SuperAdmin'].includes(name))
        for (const p of PERMISSIONS) made.permissions.set(p, ['CreateRoom', 'SharedList', 'CanRecord'].includes(p) ? 'true' : p === 'RoomLimit' ? '100' : 'false');
      this.roles.push(made);
      existing = made;
    }
    if (perms === undefined) throw SERVER_ERROR(); // nil.keys, after the save
    let okay = true;
    for (const [p, v] of Object.entries(perms)) {
      if (!existing.permissions.has(p)) continue;
      const value = column(v);
      if (!value) okay = false; // validates :value, presence: true
      else existing.permissions.set(p, value);
    }
    return okay ? created() : error(400, 'Something went wrong when migrating the role permissions.');
  }

  #createUser(user: Params): HttpAnswer {
    const provider = ['greenlight', 'ldap', 'google', 'openid_connect'].includes(String(user.provider)) ? 'greenlight' : user.provider;
    if (!this.#providerKnown(provider)) return error(400, 'Provider does not exist');
    if (typeof user.email !== 'string') throw SERVER_ERROR(); // nil.downcase
    const p = String(provider);
    if (this.userByEmail(user.email.toLowerCase(), p)) return created();
    const language = !user.language || user.language === 'default' ? 'en' : String(user.language);
    const role = this.roles.find((r) => r.name === column(user.role) && r.provider === p);
    if (!role) return error(400, 'The user role does not exist.');
    const name = column(user.name) ?? '';
    const email = user.email;
    const errors: string[] = [];
    if (name.length === 0) errors.push("Name can't be blank");
    if (name.length > 255) errors.push('Name is too long (maximum is 255 characters)');
    if (!EMAIL.test(email)) errors.push('Email is invalid');
    if (this.#userByFoldedKey.has(`${p}\n${email.toLowerCase()}`)) errors.push('Email has already been taken');
    if (errors.length) return error(400, errors);
    const externalId = column(user.external_id) || null;
    this.#saveUser({
      id: randomUUID(),
      name,
      email,
      provider: p,
      external_id: externalId,
      password_digest: p === 'greenlight' ? column(user.password_digest) : null,
      language,
      role_id: role.id,
      created_at: column(user.created_at),
    });
    return created();
  }

  #createRoom(room: Params): HttpAnswer {
    const provider = ['greenlight', 'ldap', 'google', 'openid_connect'].includes(String(room.provider)) ? 'greenlight' : room.provider;
    if (!this.#providerKnown(provider)) return error(400, 'Provider does not exist');
    const owner = typeof room.owner_email === 'string' ? this.userByEmail(room.owner_email, String(provider)) : undefined;
    if (!owner) return error(400, 'The room owner does not exist.');
    let target = this.roomByFriendlyId(String(room.friendly_id));
    if (!target) {
      const name = column(room.name) ?? '';
      const friendlyId = column(room.friendly_id) ?? '';
      const meetingId = column(room.meeting_id) ?? '';
      const errors: string[] = [];
      if (!name) errors.push("Name can't be blank");
      if (!friendlyId) errors.push("Friendly can't be blank");
      if (!meetingId) errors.push("Meeting can't be blank");
      else if (this.#meetingIds.has(meetingId)) errors.push('Meeting has already been taken');
      if (errors.length) return error(400, errors);
      target = { id: randomUUID(), name, friendly_id: friendlyId, meeting_id: meetingId, last_session: column(room.last_session), user_id: owner.id, settings: new Map(Object.entries(MEETING_OPTIONS)), shared_user_ids: [] };
      this.#saveRoom(target);
    }
    const settings = room.room_settings as Params | undefined;
    if (settings === undefined) throw SERVER_ERROR(); // nil.any?, after the save
    for (const [k, v] of Object.entries(settings)) if (target.settings.has(k)) target.settings.set(k, column(v) ?? '');
    const emails = room.shared_users_emails as Param[] | undefined;
    if (emails === undefined) throw SERVER_ERROR();
    if (emails.length === 0) return created();
    let okay = true;
    const sharedWith = [...new Set(emails)].flatMap((e) => (typeof e === 'string' ? (this.userByEmail(e, String(provider)) ?? []) : []));
    for (const u of sharedWith) {
      if (target.shared_user_ids.includes(u.id)) okay = false; // validates :shared_user, uniqueness: { scope: :shared_room }
      else target.shared_user_ids.push(u.id);
    }
    return okay ? created() : error(400, 'Something went wrong when sharing the room.');
  }

  #createSettings(settings: Params): HttpAnswer {
    if (!this.#providerKnown(settings.provider)) return error(400, 'Provider does not exist');
    const provider = String(settings.provider);
    const site = settings.site_settings as Params | undefined;
    if (site === undefined) throw SERVER_ERROR();
    const siteRows = this.siteSettings.get(provider)!;
    for (const [k, v] of Object.entries(site)) if (siteRows.has(k)) siteRows.set(k, column(v) ?? '');
    const configs = settings.rooms_configurations as Params | undefined;
    if (configs === undefined) throw SERVER_ERROR(); // after the site settings were saved
    const configRows = this.roomsConfigurations.get(provider)!;
    for (const [k, v] of Object.entries(configs)) if (configRows.has(k)) configRows.set(k, column(v) ?? '');
    return created();
  }

  /** RoomsController#public_show with PublicRoomSerializer; rooms of the current provider only. */
  #publicRoom(friendlyId: string): HttpAnswer {
    const room = this.roomByFriendlyId(friendlyId);
    const owner = room && this.#userById.get(room.user_id);
    if (!room || !owner || owner.provider !== this.#currentProvider) return error(404, ['RecordNotFound']);
    return new HttpAnswer(200, {
      data: {
        name: room.name,
        recording_consent: room.settings.get('record'),
        require_authentication: room.settings.get('glRequireAuthentication') ?? 'false',
        viewer_access_code: Boolean(room.settings.get('glViewerAccessCode')),
        moderator_access_code: Boolean(room.settings.get('glModeratorAccessCode')),
        anyone_join_as_moderator: room.settings.get('glAnyoneJoinAsModerator'),
        friendly_id: room.friendly_id,
        owner_name: owner.name,
        owner_id: owner.id,
        owner_avatar: null,
        shared_user_ids: room.shared_user_ids,
      },
    });
  }
}

export async function startGreenlight(options: GreenlightDoubleOptions): Promise<GreenlightDouble> {
  return new GreenlightDouble(options).start();
}
