// Reads a source Greenlight v2's database (schema at release-2.14.10, commit
// 606982327ec7, see test/support/greenlight-v2-schema.sql) for the inventory,
// turned into what Greenlight v3's migration API takes exactly as Greenlight's
// own v2 task does (lib/tasks/migrations/migrations.rake at that commit):
// - accounts: not deleted, under the instance (a local account carries the
//   instance's provider; one that signs in through Google, LDAP, OpenID Connect...
//   carries that provider and social_uid, and holds a role of the instance's
//   provider); social_uid travels as external_id, local bcrypt digests as they
//   are; accounts whose role is pending, denied or super_admin (or none) stay;
// - roles: "user" is User, "admin" Administrator, others capitalized (Ruby's
//   String#capitalize); permissions from role_permissions rows, mapped to v3's
//   seven (can_manage_rooms_recordings gives ManageRooms and ManageRecordings);
// - rooms: not deleted; uid is the friendly_id, bbb_id the meeting_id; the
//   room_settings JSON gives record, muteOnStart, glAnyoneCanStart,
//   glAnyoneJoinAsModerator and guestPolicy (a home room's "{ }" gives none),
//   access codes give glViewerAccessCode / glModeratorAccessCode;
// - shares: to accounts that are not deleted;
// - settings: the provider's features, read as v2's Setting#get_value does,
//   with v2's built-in defaults; a value v2 takes from its .env (registration
//   method, room configurations) when no feature row is enabled is not in the
//   database: it is left out (the target keeps its own) and named in notRead;
// - recordings: v2 keeps no rows (it lists what BigBlueButton holds).
// Not carried (the task does not either): avatars (image), usernames, terms
// acceptance, activation and password-reset state, room session counts, BBB
// passwords, presentations, role colours, priorities and e-mail flags,
// can_appear_in_share_list, the room limit and every other feature.
import type { SourceRole } from './import.js';
import { ISO, type SourceAccount, type SourceReader } from './inventory-source.js';

const BUILT_IN: Record<string, string> = { user: 'User', admin: 'Administrator' };
const STAYING_ROLES = new Set(['super_admin', 'pending', 'denied']);

/** Characters whose title case is not their upper case (Latin digraphs, ligatures). */
const TITLE: Record<string, string> = { Ǆ: 'ǅ', ǅ: 'ǅ', ǆ: 'ǅ', Ǉ: 'ǈ', ǈ: 'ǈ', ǉ: 'ǈ', Ǌ: 'ǋ', ǋ: 'ǋ', ǌ: 'ǋ', Ǳ: 'ǲ', ǲ: 'ǲ', ǳ: 'ǲ', ﬀ: 'Ff', ﬁ: 'Fi', ﬂ: 'Fl', ﬃ: 'Ffi', ﬄ: 'Ffl', ﬅ: 'St', ﬆ: 'St' };
/** Ruby's String#capitalize: the first character in title case, each other one lower-cased on its own (no final sigma). */
const capitalize = (s: string) => {
  const [first = '', ...rest] = [...s];
  return (TITLE[first] ?? first.toUpperCase()) + rest.map((c) => c.toLowerCase()).join('');
};
export const v3RoleName = (v2Name: string): string => BUILT_IN[v2Name] ?? capitalize(v2Name);

/** v3 permission ← v2 role_permissions name; "true" only when v2 holds exactly "true". */
const PERMISSIONS: Array<[string, string]> = [
  ['CreateRoom', 'can_create_rooms'],
  ['CanRecord', 'can_launch_recording'],
  ['ManageUsers', 'can_manage_users'],
  ['ManageRoles', 'can_edit_roles'],
  ['ManageRooms', 'can_manage_rooms_recordings'],
  ['ManageRecordings', 'can_manage_rooms_recordings'],
  ['ManageSiteSettings', 'can_edit_site_settings'],
];

/** Ruby's blank?: nil, or only whitespace. */
const present = (v: string | null | undefined): v is string => typeof v === 'string' && v.trim() !== '';

/** A room's meeting options from v2's room_settings JSON and access codes. */
export function roomOptions(roomSettings: string | null, accessCode: string | null, moderatorAccessCode: string | null): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(roomSettings ?? '{ }');
  } catch {
    parsed = {}; // unreadable: the target's defaults apply (v2's task would stop on it)
  }
  const s = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const on = (k: string) => (s[k] === true ? 'true' : 'false');
  const out: Record<string, string> = Object.keys(s).length
    ? { record: on('recording'), muteOnStart: on('muteOnStart'), glAnyoneCanStart: on('anyoneCanStart'), glAnyoneJoinAsModerator: on('joinModerator'), guestPolicy: s.requireModeratorApproval === true ? 'ASK_MODERATOR' : 'ALWAYS_ACCEPT' }
    : {};
  if (present(accessCode)) out.glViewerAccessCode = accessCode;
  if (present(moderatorAccessCode)) out.glModeratorAccessCode = moderatorAccessCode;
  return out;
}

const FROM_ENV = Symbol('set in v2 .env');
type Got = string | null | typeof FROM_ENV;

/** v2's Setting#default_value: its constants; what comes from .env is unknown here. */
const DEFAULTS: Record<string, Got> = {
  'Primary Color': '#467fcf',
  'Shared Access': 'true',
  'Preupload Presentation': 'false',
  'Require Recording Consent': 'false',
  'Registration Method': FROM_ENV,
  'Room Configuration Mute On Join': FROM_ENV,
  'Room Configuration Require Moderator': FROM_ENV,
  'Room Configuration Allow Any Start': FROM_ENV,
  'Room Configuration All Join Moderator': FROM_ENV,
  'Room Configuration Recording': FROM_ENV,
};

const registrationMethod = (v: string | null) => (v === '1' ? 'invite' : v === '2' ? 'approval' : 'open');
const roomConfig = (v: string | null) => (!present(v) ? null : v === 'enabled' || v === 'true' ? 'true' : v === 'disabled' ? 'false' : 'optional');

/** The v3 settings from v2's features, as the task builds them. */
export function v2Settings(features: Array<{ name: string; value: string | null; enabled: boolean | null }>) {
  // get_value: the first row of that name; its value when enabled, else the default.
  const get = (name: string): Got => {
    const f = features.find((x) => x.name === name);
    return f?.enabled ? f.value : (DEFAULTS[name] ?? null);
  };
  const notRead: string[] = [];
  const put = (into: Record<string, string>, key: string, got: Got, map: (v: string | null) => string | null) => {
    if (got === FROM_ENV) return void notRead.push(key);
    const v = map(got);
    if (v !== null) into[key] = v;
  };
  const same = (v: string | null) => v;
  const siteSettings: Record<string, string> = {};
  put(siteSettings, 'PrimaryColor', get('Primary Color'), same);
  put(siteSettings, 'PrimaryColorLight', get('Primary Color Lighten'), same);
  put(siteSettings, 'Terms', get('Legal URL'), same);
  put(siteSettings, 'PrivacyPolicy', get('Privacy Policy URL'), same);
  put(siteSettings, 'RegistrationMethod', get('Registration Method'), registrationMethod);
  put(siteSettings, 'ShareRooms', get('Shared Access'), same);
  put(siteSettings, 'PreuploadPresentation', get('Preupload Presentation'), same);

  const roomsConfigurations: Record<string, string> = {};
  // Without recording consent every meeting records; with it, v2's "optional" is v3's default_enabled.
  const consent = get('Require Recording Consent');
  put(roomsConfigurations, 'record', consent !== 'true' ? 'true' : get('Room Configuration Recording'), (v) => {
    const c = consent !== 'true' ? v : roomConfig(v);
    return c === 'optional' ? 'default_enabled' : c;
  });
  put(roomsConfigurations, 'muteOnStart', get('Room Configuration Mute On Join'), roomConfig);
  put(roomsConfigurations, 'guestPolicy', get('Room Configuration Require Moderator'), roomConfig);
  put(roomsConfigurations, 'glAnyoneCanStart', get('Room Configuration Allow Any Start'), roomConfig);
  put(roomsConfigurations, 'glAnyoneJoinAsModerator', get('Room Configuration All Join Moderator'), roomConfig);
  put(roomsConfigurations, 'glRequireAuthentication', get('Room Authentication'), roomConfig);
  return { siteSettings, roomsConfigurations, notRead };
}

export const v2Reader: SourceReader = {
  tablesOf: "Greenlight v2's",

  async accounts(sql, { provider, emails, subs }) {
    // A local account carries the provider; a social one the identity provider's name, and a role of the instance's provider.
    const rows = await sql<
      Array<{ id: string; name: string | null; email: string | null; social_uid: string | null; password_digest: string | null; language: string | null; created_at: string; role_id: string | null; role: string | null }>
    >`
      select u.id::text, u.name, u.email, u.social_uid, u.password_digest, u.language, to_char(u.created_at, ${ISO}) as created_at, r.id::text as role_id, r.name as role
      from users u left join roles r on r.id = u.role_id
      where not u.deleted and (u.provider = ${provider} or r.provider = ${provider})
        and (lower(u.email) = any(${emails}::text[]) or u.social_uid = any(${subs}::text[]))
      order by u.id`;
    return rows.map((a): SourceAccount => {
      const login = a.social_uid ? ({ kind: 'oidc', sub: a.social_uid } as const) : a.password_digest ? ({ kind: 'local', passwordDigest: a.password_digest } as const) : undefined;
      const blocked = !a.role || STAYING_ROLES.has(a.role) ? 'its role does not move (pending, denied, super_admin or none)' : !present(a.email) ? 'it has no e-mail address' : undefined;
      return {
        id: a.id,
        name: a.name ?? '',
        email: present(a.email) ? a.email : null,
        externalId: a.social_uid,
        login,
        roleId: a.role_id,
        role: a.role ? v3RoleName(a.role) : null,
        language: a.language ?? 'default',
        createdAt: a.created_at,
        ...(blocked ? { blocked } : {}),
      };
    });
  },

  async roles(sql, provider, roleIds) {
    const rows = await sql<Array<{ role: string; permission: string | null; value: string | null }>>`
      select r.name as role, rp.name as permission, rp.value
      from roles r left join role_permissions rp on rp.role_id = r.id
      where r.provider = ${provider} and r.id = any(${roleIds}::bigint[]) and r.name is not null
      order by r.id, rp.id`;
    const held = new Map<string, Record<string, string>>();
    for (const row of rows) {
      const perms = held.get(row.role) ?? held.set(row.role, {}).get(row.role)!;
      if (row.permission && !(row.permission in perms)) perms[row.permission] = row.value ?? '';
    }
    const roles = new Map<string, SourceRole>();
    for (const [name, perms] of held) {
      const v3 = v3RoleName(name);
      if (!roles.has(v3)) roles.set(v3, { name: v3, permissions: Object.fromEntries(PERMISSIONS.map(([to, from]) => [to, perms[from] === 'true' ? 'true' : 'false'])) });
    }
    return [...roles.values()];
  },

  async rooms(sql, ownerIds) {
    const rows = await sql<Array<{ id: string; name: string; uid: string; bbb_id: string; last_session: string | null; owner_id: string }>>`
      select r.id::text, r.name, r.uid, r.bbb_id, to_char(r.last_session, ${ISO}) as last_session, r.user_id::text as owner_id
      from rooms r
      where r.user_id = any(${ownerIds}::bigint[]) and not r.deleted and r.uid is not null and r.bbb_id is not null
      order by r.id`;
    return rows.map((r) => ({ id: r.id, ownerId: r.owner_id, name: r.name, friendlyId: r.uid, meetingId: r.bbb_id, lastSession: r.last_session }));
  },

  async roomSettings(sql, roomIds) {
    const rows = await sql<Array<{ id: string; room_settings: string | null; access_code: string | null; moderator_access_code: string | null }>>`
      select r.id::text, r.room_settings, r.access_code, r.moderator_access_code from rooms r where r.id = any(${roomIds}::bigint[])`;
    return new Map(rows.map((r) => [r.id, roomOptions(r.room_settings, r.access_code, r.moderator_access_code)]));
  },

  async shares(sql, roomIds, memberIds) {
    // As v3's: an outsider's e-mail never leaves the source. Shares to deleted accounts are gone in v2 too.
    const rows = await sql<Array<{ room_id: string; user_id: string; member_email: string | null }>>`
      select sa.room_id::text, sa.user_id::text, case when u.id = any(${memberIds}::bigint[]) then u.email end as member_email
      from shared_accesses sa join users u on u.id = sa.user_id and not u.deleted
      where sa.room_id = any(${roomIds}::bigint[])
      order by sa.created_at, sa.id`;
    return rows.map((s) => ({ roomId: s.room_id, userId: s.user_id, memberEmail: s.member_email }));
  },

  async recordings() {
    return [];
  },

  async settings(sql, provider) {
    // Setting.find_by(provider:): the first such row.
    const features = await sql<Array<{ name: string; value: string | null; enabled: boolean | null }>>`
      select f.name, f.value, f.enabled from features f
      where f.setting_id = (select min(s.id) from settings s where s.provider = ${provider})
      order by f.id`;
    return v2Settings(features);
  },
};
