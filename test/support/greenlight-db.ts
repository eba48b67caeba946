// A source Greenlight v3's database on the test PostgreSQL: Greenlight's schema
// (greenlight-v3-schema.sql, transcribed from db/schema.rb at a pinned commit),
// the rows its data migrations seed (db/data/*: meeting options, settings,
// permissions, default roles), and what a Greenlight serving two member
// organisations holds: a choir (choir.example) and a rowing club (rowing.example)
// under the one provider "greenlight", plus a tenant "harbour" whose Ada is
// another person with the same e-mail. Local accounts carry bcrypt digests
// (bcrypt-ruby's $2a$, cost 12), OIDC accounts an external_id and no digest.
// Each database is uniquely named under the run's prefix, so the run's
// teardown drops it even if a test forgets to.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { inject } from 'vitest';
import { adminUrl, urlFor } from './pg-server.js';

export interface GreenlightSource {
  /** postgres:// URL of the source Greenlight's database (the test server: trust auth). */
  url: string;
  name: string;
  drop(): Promise<void>;
}

// Digests of "Choir-2026!", "Dave-2026!", "Rowing-2026!", "Harbour-2026!" (htpasswd -B -C 12, as $2a$).
export const DIGESTS = {
  ada: '$2a$12$lWByA1uAjmVBUytQOr1zveQ0RUP1voyO1igDogMurSYHwFi61hCOe',
  dave: '$2a$12$DhlCp5d6gc2Fk0cZM0is4u5C0YVSGKtgeBA9k2Lx1.yRzDtrmqak2',
  erin: '$2a$12$.ieSVpwNXusMh8QOjzqClOTEqMruUKr0b1DxVUMXKkO5EYiTjqVRC',
  harbour: '$2a$12$KP7UwYp/Z6WqbaV4ufV5.Owglr8C25QsIpSpOFICHEgSxnBDiDz16',
};

const SCHEMA = readFileSync(new URL('./greenlight-v3-schema.sql', import.meta.url), 'utf8');

/** What Greenlight's data migrations (db/data at the pinned commit) put in a fresh database, for each provider. */
function seededByGreenlight(providers: string[]): string {
  const options: Array<[string, string]> = [
    ['record', 'false'], ['muteOnStart', 'false'], ['guestPolicy', 'ALWAYS_ACCEPT'], ['glAnyoneCanStart', 'false'],
    ['glAnyoneJoinAsModerator', 'false'], ['glRequireAuthentication', 'false'], ['glModeratorAccessCode', ''], ['glViewerAccessCode', ''],
  ];
  const settings = ['PrimaryColor', 'PrimaryColorLight', 'PrimaryColorDark', 'BrandingImage', 'Terms', 'PrivacyPolicy', 'RegistrationMethod', 'ShareRooms', 'PreuploadPresentation', 'RoleMapping'];
  const permissions = ['CreateRoom', 'ManageUsers', 'ManageRooms', 'ManageRecordings', 'ManageSiteSettings', 'ManageRoles', 'SharedList', 'CanRecord', 'RoomLimit'];
  const defaults: Record<string, string> = { PrimaryColor: '#467fcf', PrimaryColorLight: '#e8eff9', PrimaryColorDark: '#316cbe', BrandingImage: 'https://gl.example/assets/bbb_logo.png', RegistrationMethod: 'open', ShareRooms: 'true', PreuploadPresentation: 'true' };
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const out: string[] = [];
  out.push(`insert into meeting_options (name, default_value, created_at, updated_at) values ${options.map(([n, v]) => `(${q(n)}, ${q(v)}, now(), now())`).join(', ')};`);
  out.push(`insert into settings (name, created_at, updated_at) values ${settings.map((n) => `(${q(n)}, now(), now())`).join(', ')};`);
  out.push(`insert into permissions (name, created_at, updated_at) values ${permissions.map((n) => `(${q(n)}, now(), now())`).join(', ')};`);
  for (const p of providers) {
    out.push(`insert into site_settings (setting_id, value, provider, created_at, updated_at) select id, coalesce((${q(JSON.stringify(defaults))}::jsonb)->>name, ''), ${q(p)}, now(), now() from settings;`);
    out.push(`insert into rooms_configurations (meeting_option_id, provider, value, created_at, updated_at) select id, ${q(p)}, case when name = 'record' then 'default_enabled' else 'optional' end, now(), now() from meeting_options;`);
    for (const role of ['Administrator', 'User', 'Guest']) {
      out.push(`insert into roles (name, color, provider, created_at, updated_at) values (${q(role)}, '#228B22', ${q(p)}, now(), now());`);
      out.push(
        `insert into role_permissions (role_id, permission_id, value, created_at, updated_at)
         select r.id, pm.id, case when pm.name = 'RoomLimit' then '100' when ${q(role)} = 'Administrator' or pm.name in ('SharedList', 'CanRecord') or (${q(role)} = 'User' and pm.name = 'CreateRoom') then 'true' else 'false' end, now(), now()
         from roles r, permissions pm where r.name = ${q(role)} and r.provider = ${q(p)};`,
      );
    }
  }
  return out.join('\n');
}

/** Two organisations' people, rooms, shares and recordings, as a Greenlight that has run for a while holds them. */
const PEOPLE = `
insert into tenants (name, client_secret, created_at, updated_at) values ('harbour', 'not-a-real-secret', now(), now());

-- A custom role the choir's organiser holds, and the rowing club's own.
insert into roles (name, color, provider, created_at, updated_at) values ('Organiser', '#8e44ad', 'greenlight', now(), now()), ('Captain', '#2980b9', 'greenlight', now(), now());
insert into role_permissions (role_id, permission_id, value, created_at, updated_at)
  select r.id, pm.id, case pm.name when 'CreateRoom' then 'true' when 'ManageRooms' then 'true' when 'CanRecord' then 'false' when 'RoomLimit' then '5' else 'false' end, now(), now()
  from roles r, permissions pm where r.name in ('Organiser', 'Captain') and r.provider = 'greenlight';

create temporary table people (email text, name text, provider text, role text, digest text, external_id text, language text, created text);
insert into people values
  ('ada@choir.example',    'Ada Lovelace',  'greenlight', 'Organiser',     '${DIGESTS.ada}',  null,           'en', '2024-02-01 10:00:00'),
  -- created by Greenlight's v2 migration, which keeps the e-mail as given
  ('Bob@Choir.example',    'Bob Baritone',  'greenlight', 'User',          '${DIGESTS.ada}',  null,           'fr', '2023-05-12 08:30:00'),
  ('carol@choir.example',  'Carol Alto',    'greenlight', 'User',          null,              'sub-carol-41', 'de', '2024-09-09 19:00:00'),
  ('dave@choir.example',   'Dave Tenor',    'greenlight', 'User',          '${DIGESTS.dave}', null,           'en', '2024-03-03 12:00:00'),
  ('erin@rowing.example',  'Erin Stroke',   'greenlight', 'Captain',       '${DIGESTS.erin}', null,           'en', '2024-01-20 07:00:00'),
  ('frank@rowing.example', 'Frank Bow',     'greenlight', 'User',          null,              'sub-frank-07', 'en', '2024-06-30 18:00:00'),
  ('ada@choir.example',    'Ada of Harbour','harbour',    'User',          '${DIGESTS.harbour}', null,        'en', '2025-01-01 00:00:00');
insert into users (name, email, external_id, provider, password_digest, created_at, updated_at, role_id, language, verified, session_token, session_expiry, last_login)
  select p.name, p.email, p.external_id, p.provider, p.digest, p.created::timestamp, p.created::timestamp, r.id, p.language, true, md5(p.email || p.provider), now() + interval '6 hours', now() - interval '2 days'
  from people p join roles r on r.name = p.role and r.provider = p.provider;

create temporary table room_list (owner text, provider text, name text, friendly_id text, meeting_id text, last_session text);
insert into room_list values
  ('ada@choir.example',    'greenlight', 'Choir board',  'ada-k2p-9xq-m4z', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2026-10-01 09:00:00'),
  ('Bob@Choir.example',    'greenlight', 'Rehearsals',   'bob-7hd-2kq-p0w', 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2026-11-20 19:30:00'),
  ('carol@choir.example',  'greenlight', 'Alto section', 'car-m3n-8vb-x1c', 'c1b2c3d4e5f60718293a4b5c6d7e8f9012345678', null),
  ('dave@choir.example',   'greenlight', 'Dave''s room', 'dav-q9w-e8r-t7y', 'd1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2026-06-01 10:00:00'),
  ('erin@rowing.example',  'greenlight', 'Regatta',      'eri-z1x-c2v-b3n', 'e1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2026-09-15 06:00:00'),
  ('frank@rowing.example', 'greenlight', 'Boathouse',    'fra-a5s-d6f-g7h', 'f1b2c3d4e5f60718293a4b5c6d7e8f9012345678', null),
  ('ada@choir.example',    'harbour',    'Harbour watch','hrb-j8k-l9m-n0p', '01b2c3d4e5f60718293a4b5c6d7e8f9012345678', null);
insert into rooms (user_id, name, friendly_id, meeting_id, last_session, created_at, updated_at)
  select u.id, l.name, l.friendly_id, l.meeting_id, l.last_session::timestamp, now(), now()
  from room_list l join users u on u.email = l.owner and u.provider = l.provider;

-- Room.after_create: every room gets every meeting option, from the provider's rooms configuration.
insert into room_meeting_options (room_id, meeting_option_id, value, created_at, updated_at)
  select r.id, mo.id, case when rc.value in ('true', 'default_enabled') and mo.name = 'record' then 'true' else mo.default_value end, now(), now()
  from rooms r join users u on u.id = r.user_id cross join meeting_options mo
  join rooms_configurations rc on rc.meeting_option_id = mo.id and rc.provider = u.provider;
-- What the owners changed since.
update room_meeting_options rmo set value = v.value from (values
  ('ada-k2p-9xq-m4z', 'guestPolicy', 'ASK_MODERATOR'), ('ada-k2p-9xq-m4z', 'glViewerAccessCode', 'x7k2q1'), ('ada-k2p-9xq-m4z', 'muteOnStart', 'true'),
  ('bob-7hd-2kq-p0w', 'record', 'false'), ('bob-7hd-2kq-p0w', 'glAnyoneCanStart', 'true'),
  ('eri-z1x-c2v-b3n', 'glModeratorAccessCode', 'oars42')
) as v(friendly_id, option, value), rooms r, meeting_options mo
where r.friendly_id = v.friendly_id and mo.name = v.option and rmo.room_id = r.id and rmo.meeting_option_id = mo.id;

create temporary table share_list (friendly_id text, email text, provider text);
insert into share_list values
  ('ada-k2p-9xq-m4z', 'Bob@Choir.example',    'greenlight'),
  ('ada-k2p-9xq-m4z', 'carol@choir.example',  'greenlight'),
  ('ada-k2p-9xq-m4z', 'dave@choir.example',   'greenlight'),  -- to an objector
  ('ada-k2p-9xq-m4z', 'erin@rowing.example',  'greenlight'),  -- across the organisations
  ('car-m3n-8vb-x1c', 'ada@choir.example',    'greenlight'),
  ('dav-q9w-e8r-t7y', 'ada@choir.example',    'greenlight'),  -- an objector's room
  ('eri-z1x-c2v-b3n', 'ada@choir.example',    'greenlight'),  -- the rowing club's room, shared into the choir
  ('eri-z1x-c2v-b3n', 'frank@rowing.example', 'greenlight');
insert into shared_accesses (user_id, room_id, created_at, updated_at)
  select u.id, r.id, now(), now() from share_list s join rooms r on r.friendly_id = s.friendly_id join users u on u.email = s.email and u.provider = s.provider;

create temporary table recording_list (friendly_id text, record_id text, name text, visibility text, length int, participants int, recorded_at text);
insert into recording_list values
  ('ada-k2p-9xq-m4z', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678-1759309200000', 'Choir board', 'Unpublished', 47, 6, '2026-10-01 09:00:00'),
  ('ada-k2p-9xq-m4z', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678-1756717200000', 'Choir board', 'Public',      61, 8, '2026-09-01 09:00:00'),
  ('bob-7hd-2kq-p0w', 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678-1763667000000', 'Rehearsals',  'Protected',  112, 23, '2026-11-20 19:30:00'),
  ('dav-q9w-e8r-t7y', 'd1b2c3d4e5f60718293a4b5c6d7e8f9012345678-1748772000000', 'Dave''s room','Public',      15, 2, '2026-06-01 10:00:00'),
  ('eri-z1x-c2v-b3n', 'e1b2c3d4e5f60718293a4b5c6d7e8f9012345678-1757916000000', 'Regatta',     'Public',      90, 11, '2026-09-15 06:00:00');
insert into recordings (room_id, name, record_id, created_at, updated_at, visibility, length, participants, protectable, recorded_at)
  select r.id, l.name, l.record_id, now(), now(), l.visibility, l.length, l.participants, l.visibility = 'Protected', l.recorded_at::timestamp
  from recording_list l join rooms r on r.friendly_id = l.friendly_id;

-- The site as its operators set it up.
update site_settings ss set value = v.value from (values ('PrimaryColor', '#7b1fa2'), ('RegistrationMethod', 'invite'), ('ShareRooms', 'true'), ('Terms', 'https://gl.example/terms')) as v(name, value), settings s
where ss.setting_id = s.id and s.name = v.name and ss.provider = 'greenlight';
update rooms_configurations rc set value = v.value from (values ('glRequireAuthentication', 'true'), ('muteOnStart', 'default_enabled')) as v(name, value), meeting_options mo
where rc.meeting_option_id = mo.id and mo.name = v.name and rc.provider = 'greenlight';
`;

/** Creates, fills and hands over a source Greenlight's database (postgres project only). */
export async function greenlightSource(): Promise<GreenlightSource> {
  return sourceDatabase([SCHEMA, seededByGreenlight(['greenlight', 'harbour']), PEOPLE]);
}

/** A fresh database under the run's prefix, filled by `statements` in order (also for greenlight-v2-db.ts). */
export async function sourceDatabase(statements: string[]): Promise<GreenlightSource> {
  const name = `${inject('pgRunPrefix')}_gl_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = urlFor(name);
  const db = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const statement of statements) await db.unsafe(statement);
  } finally {
    await db.end();
  }
  return {
    url,
    name,
    async drop() {
      const a = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`).finally(() => a.end());
    },
  };
}

/** Every table's rows, hashed: equal before and after means nothing was written. */
export async function checksum(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const tables = await sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = 'public' order by 1`;
    const parts: string[] = [];
    for (const { t } of tables) {
      const [row] = await sql.unsafe(`select count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as h from "${t}" x`);
      parts.push(`${t}=${row!.h}`);
    }
    return parts.join(',');
  } finally {
    await sql.end();
  }
}
