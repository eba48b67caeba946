// A source Greenlight v2's database on the test PostgreSQL: v2's schema
// (greenlight-v2-schema.sql, transcribed from db/schema.rb at release-2.14.10),
// the roles Role.create_default_roles makes per provider (user, admin, pending,
// denied, super_admin, with the role_permissions rows update_all_role_permissions
// writes), and what a v2 serving two member organisations holds: a choir
// (choir.example) and a rowing club (rowing.example) on one single-tenant v2,
// whose accounts are local (provider "greenlight", a bcrypt digest) or come from
// an identity provider (provider "openid_connect", "google" or "ldap", the
// subject in social_uid, a role of provider "greenlight", as v2's setup_user
// gives them), plus a tenant "harbour" (v2's load-balanced mode: provider and
// role provider are the tenant's name) whose Ada is another person with the same
// e-mail. v2 lower-cases e-mails on save and soft-deletes users and rooms
// (deleted = true); password digests are unique (v2's index). Rooms carry v2's
// room_settings JSON (a home room keeps "{ }") and access codes; site settings
// are a settings row per provider with its features.
import { readFileSync } from 'node:fs';
import { sourceDatabase, type GreenlightSource } from './greenlight-db.js';

// bcrypt digests of "Choir-v2-Ada!", "Choir-v2-Bob!", ... (htpasswd -B -C 12, as $2a$).
export const V2_DIGESTS = {
  ada: '$2a$12$fBWC7VMCB/oujGpOxjwPlu/z8fIIZ9YX6U5tGQ0FoGq6q.7BBOWdS',
  bob: '$2a$12$xdTShmyCSJqT.yqTtMmb4eBpl/57jdckmDcuyF7QzBhN6CpwtSumy',
  dave: '$2a$12$BOCgcYA4dNTPh8T0sVF8E.eGdTjvRY71baCOMKO0lIUCJJxBEdCpi',
  hana: '$2a$12$6py7MzR3ZEBC9NirpH7HyeiEvhJE9fATEbkQ6JUkTq3MH49YdE1mu',
  ivan: '$2a$12$eKTNDBcsdS7UhAOH7j/qYujOk/oEsOJ/a19TfKDLnN1lSEnA2KAR2',
  old: '$2a$12$3L6.FS6TBGkR/whbEnX6Xu.Fqx4s0BK6tiFFCaR5A46d8ou..wLLO',
  erin: '$2a$12$15Zefb.gBcbdqKXK2m.cwefjx09OzEWFo3kfDlnzFg/1oYXfGE3QW',
  harbour: '$2a$12$vp7m6FUojy/odHjf32SLguLFg2p2pF9HOOhz9z/c8hVzQXskTzrBO',
};

const SCHEMA = readFileSync(new URL('./greenlight-v2-schema.sql', import.meta.url), 'utf8');

/** Role.create_default_roles(provider) at release-2.14.10: five roles, and a permission row for each value given. */
function defaultRoles(provider: string): string {
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const all = ['can_create_rooms', 'send_promoted_email', 'send_demoted_email', 'can_edit_site_settings', 'can_manage_rooms_recordings', 'can_launch_recording', 'can_edit_roles', 'can_manage_users'];
  const roles: Array<[string, number, string, string[]]> = [
    ['user', 1, '#868e96', ['can_create_rooms', 'can_launch_recording']],
    ['admin', 0, '#f1c40f', all],
    ['pending', -1, '#17a2b8', []],
    ['denied', -2, '#343a40', []],
    ['super_admin', -3, '#cd201f', all],
  ];
  return roles
    .map(
      ([name, priority, colour, granted]) =>
        `insert into roles (name, priority, colour, provider, created_at, updated_at) values (${q(name)}, ${priority}, ${q(colour)}, ${q(provider)}, now(), now());` +
        granted.map((p) => `\ninsert into role_permissions (name, value, enabled, role_id, created_at, updated_at) select ${q(p)}, 'true', true, id, now(), now() from roles where name = ${q(name)} and provider = ${q(provider)};`).join(''),
    )
    .join('\n');
}

const PEOPLE = `
-- Custom roles, made in v2's admin panel (Role.create_new_role, then every permission saved as "true"/"false").
update roles set priority = 3 where name = 'user' and provider = 'greenlight';
insert into roles (name, priority, colour, provider, created_at, updated_at) values ('choir ORGANISER', 2, '#8e44ad', 'greenlight', now(), now()), ('captain', 1, '#2980b9', 'greenlight', now(), now());
insert into role_permissions (name, value, enabled, role_id, created_at, updated_at)
  select p.name, case when r.name = 'choir ORGANISER' and p.name in ('can_create_rooms', 'can_manage_rooms_recordings', 'can_appear_in_share_list') then 'true'
                      when r.name = 'captain' and p.name in ('can_create_rooms', 'can_launch_recording', 'can_manage_users') then 'true' else 'false' end, true, r.id, now(), now()
  from roles r, (values ('can_create_rooms'), ('send_promoted_email'), ('send_demoted_email'), ('can_edit_site_settings'), ('can_edit_roles'), ('can_manage_users'),
                        ('can_manage_rooms_recordings'), ('can_appear_in_share_list'), ('can_launch_recording')) as p(name)
  where r.name in ('choir ORGANISER', 'captain') and r.provider = 'greenlight';

create temporary table people (email text, name text, provider text, role text, role_provider text, digest text, social_uid text, language text, created text, deleted boolean);
insert into people values
  ('ada@choir.example',    'Ada Lovelace',   'greenlight',     'choir ORGANISER', 'greenlight', '${V2_DIGESTS.ada}',  null,                'en',      '2021-02-01 10:00:00', false),
  -- Ada once signed in with Google too: v2 keeps that as a second account with the same e-mail
  ('ada@choir.example',    'Ada (Google)',   'google',         'user',            'greenlight', null,                  '104729384756102938', 'default', '2022-04-04 09:00:00', false),
  ('bob@choir.example',    'Bob Baritone',   'greenlight',     'user',            'greenlight', '${V2_DIGESTS.bob}',  null,                'fr',      '2020-05-12 08:30:00', false),
  -- signs in through meetplane: social_uid is her meetplane subject
  ('carol@choir.example',  'Carol Alto',     'openid_connect', 'user',            'greenlight', null,                  'sub-carol-41',      'de',      '2022-09-09 19:00:00', false),
  ('dave@choir.example',   'Dave Tenor',     'greenlight',     'user',            'greenlight', '${V2_DIGESTS.dave}', null,                'default', '2021-03-03 12:00:00', false),
  ('gus@choir.example',    'Gus Bass',       'google',         'user',            'greenlight', null,                  '117263548899001122', 'en',      '2022-01-15 20:00:00', false),
  ('hana@choir.example',   'Hana Soprano',   'greenlight',     'pending',         'greenlight', '${V2_DIGESTS.hana}', null,                'en',      '2023-11-01 11:00:00', false),
  ('ivan@choir.example',   'Ivan Denied',    'greenlight',     'denied',          'greenlight', '${V2_DIGESTS.ivan}', null,                'en',      '2021-07-07 07:00:00', false),
  ('old@choir.example',    'Old Member',     'greenlight',     'user',            'greenlight', '${V2_DIGESTS.old}',  null,                'en',      '2020-01-01 00:00:00', true),
  ('erin@rowing.example',  'Erin Stroke',    'greenlight',     'captain',         'greenlight', '${V2_DIGESTS.erin}', null,                'en',      '2021-01-20 07:00:00', false),
  ('frank@rowing.example', 'Frank Bow',      'ldap',           'user',            'greenlight', null,                  'uid=frank,ou=people,dc=rowing,dc=example', 'en', '2022-06-30 18:00:00', false),
  -- Twitter gave v2 no e-mail (v2 lets such accounts have none)
  ('',                     'Tom Twitter',    'twitter',        'user',            'greenlight', null,                  'tw-2231',           'en',      '2022-02-02 20:00:00', false),
  ('ada@choir.example',    'Ada of Harbour', 'harbour',        'user',            'harbour',    '${V2_DIGESTS.harbour}', null,             'en',      '2023-01-01 00:00:00', false);
insert into users (uid, name, email, provider, social_uid, password_digest, language, role_id, email_verified, accepted_terms, activated_at, deleted, created_at, updated_at, last_login)
  select 'gl-' || substr(md5(p.email || p.provider), 1, 12), p.name, nullif(p.email, ''), p.provider, p.social_uid, p.digest, p.language, r.id, true, true, p.created::timestamp, p.deleted, p.created::timestamp, p.created::timestamp, now() - interval '3 days'
  from people p join roles r on r.name = p.role and r.provider = p.role_provider
  order by p.created;

create temporary table room_list (owner text, provider text, name text, uid text, bbb_id text, last_session text, settings text, access_code text, moderator_access_code text, deleted boolean, home boolean);
insert into room_list values
  ('ada@choir.example',    'greenlight', 'Home Room',     'ada-k2p-9xq',     '2a1b2c3d4e5f60718293a4b5c6d7e8f901234567', '2024-03-01 18:00:00', '{ }', null, null, false, true),
  ('ada@choir.example',    'greenlight', 'Choir board',   'ada-x7k-2qm-p0w', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2024-10-01 09:00:00',
     '{"muteOnStart":true,"requireModeratorApproval":true,"anyoneCanStart":false,"joinModerator":false,"recording":true}', '482913', '', false, false),
  ('ada@choir.example',    'greenlight', 'Old board',     'ada-zzz-yyy',     'aa1b2c3d4e5f60718293a4b5c6d7e8f901234567', null, '{ }', null, null, true, false),
  ('ada@choir.example',    'google',     'Ada''s Google room', 'ada-g00-g1e',   'ab1b2c3d4e5f60718293a4b5c6d7e8f901234567', null, '{ }', null, null, false, true),
  ('bob@choir.example',    'greenlight', 'Rehearsals',    'bob-7hd-2kq-p0w', 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2024-11-20 19:30:00',
     '{"muteOnStart":false,"requireModeratorApproval":false,"anyoneCanStart":true,"joinModerator":false,"recording":false}', null, null, false, false),
  ('carol@choir.example',  'openid_connect', 'Alto section', 'car-m3n-8vb', 'c1b2c3d4e5f60718293a4b5c6d7e8f9012345678', null, '{ }', null, 'alto99', false, true),
  ('dave@choir.example',   'greenlight', 'Dave''s room',  'dav-q9w-e8r',     'd1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2024-06-01 10:00:00', '{ }', null, null, false, true),
  -- written by hand once: a string where v2 writes a boolean (Greenlight's task reads only true as true)
  ('gus@choir.example',    'google',     'Bass section',  'gus-b4s-5ss',     'g1b2c3d4e5f60718293a4b5c6d7e8f9012345678', null, '{"recording":"true","joinModerator":true}', null, null, false, false),
  ('ivan@choir.example',   'greenlight', 'Ivan''s room',  'iva-n0p-e3n',     '11b2c3d4e5f60718293a4b5c6d7e8f9012345678', null, '{ }', null, null, false, true),
  ('old@choir.example',    'greenlight', 'Old room',      'old-r00-m11',     '12b2c3d4e5f60718293a4b5c6d7e8f9012345678', null, '{ }', null, null, true, true),
  ('erin@rowing.example',  'greenlight', 'Regatta',       'eri-z1x-c2v',     'e1b2c3d4e5f60718293a4b5c6d7e8f9012345678', '2024-09-15 06:00:00', '{ }', null, 'oars42', false, true),
  ('frank@rowing.example', 'ldap',       'Boathouse',     'fra-a5s-d6f',     'f1b2c3d4e5f60718293a4b5c6d7e8f9012345678', null, '{ }', null, null, false, true),
  ('ada@choir.example',    'harbour',    'Harbour watch', 'hrb-j8k-l9m',     '01b2c3d4e5f60718293a4b5c6d7e8f9012345678', null, '{ }', null, null, false, true);
insert into rooms (user_id, name, uid, bbb_id, last_session, room_settings, access_code, moderator_access_code, deleted, sessions, moderator_pw, attendee_pw, created_at, updated_at)
  select u.id, l.name, l.uid, l.bbb_id, l.last_session::timestamp, l.settings, l.access_code, l.moderator_access_code, l.deleted, 3, md5(l.uid || 'm'), md5(l.uid || 'a'), now(), now()
  from room_list l join users u on u.email = l.owner and u.provider = l.provider;
update users u set room_id = r.id from rooms r, room_list l where r.uid = l.uid and l.home and r.user_id = u.id;

create temporary table share_list (uid text, email text, provider text);
insert into share_list values
  ('ada-x7k-2qm-p0w', 'bob@choir.example',    'greenlight'),
  ('ada-x7k-2qm-p0w', 'carol@choir.example',  'openid_connect'),
  ('ada-x7k-2qm-p0w', 'gus@choir.example',    'google'),
  ('ada-x7k-2qm-p0w', 'ada@choir.example',    'google'),      -- her own Google account: the same person at the target
  ('ada-x7k-2qm-p0w', 'dave@choir.example',   'greenlight'),  -- to an objector
  ('ada-x7k-2qm-p0w', 'erin@rowing.example',  'greenlight'),  -- across the organisations
  ('ada-x7k-2qm-p0w', 'old@choir.example',    'greenlight'),  -- a deleted account: v2 no longer shows it
  ('ada-x7k-2qm-p0w', 'ivan@choir.example',   'greenlight'),  -- a denied account
  ('ada-x7k-2qm-p0w', '',                     'twitter'),     -- an account without e-mail
  ('bob-7hd-2kq-p0w', 'ada@choir.example',    'greenlight'),
  ('bob-7hd-2kq-p0w', 'ada@choir.example',    'google'),      -- both of Ada's accounts: shared once at the target
  ('car-m3n-8vb',     'ada@choir.example',    'greenlight'),
  ('dav-q9w-e8r',     'ada@choir.example',    'greenlight'),  -- an objector's room
  ('eri-z1x-c2v',     'ada@choir.example',    'greenlight'),  -- the rowing club's room, shared into the choir
  ('eri-z1x-c2v',     'frank@rowing.example', 'ldap');
insert into shared_accesses (room_id, user_id, created_at, updated_at)
  select r.id, u.id, now(), now() from share_list s join rooms r on r.uid = s.uid join users u on coalesce(u.email, '') = s.email and u.provider = s.provider;

-- Site settings: a settings row per provider, a feature per value an admin saved (enabled) or v2 only looked up (not enabled).
insert into settings (provider, created_at, updated_at) values ('greenlight', now(), now()), ('harbour', now(), now());
insert into features (setting_id, name, value, enabled, created_at, updated_at)
  select s.id, f.name, f.value, f.enabled, now(), now() from settings s, (values
    ('Primary Color', '#7b1fa2', true), ('Registration Method', '1', true), ('Shared Access', 'true', true), ('Legal URL', 'https://gl.example/terms', true),
    ('Privacy Policy URL', 'https://gl.example/stale-privacy', false), ('Require Recording Consent', 'true', true), ('Room Configuration Recording', 'optional', true),
    ('Room Configuration Mute On Join', 'enabled', true), ('Room Configuration Allow Any Start', 'disabled', true), ('Room Authentication', 'true', true),
    ('Branding Image', 'https://gl.example/choir-logo.png', true), ('Room Limit', '3', true), ('Preupload Presentation', null, false)
  ) as f(name, value, enabled) where s.provider = 'greenlight';
insert into features (setting_id, name, value, enabled, created_at, updated_at)
  select s.id, 'Primary Color', '#00838f', true, now(), now() from settings s where s.provider = 'harbour';
`;

/** Creates, fills and hands over a source Greenlight v2's database (postgres project only). */
export async function greenlightV2Source(): Promise<GreenlightSource> {
  return sourceDatabase([SCHEMA, defaultRoles('greenlight'), defaultRoles('harbour'), PEOPLE]);
}
