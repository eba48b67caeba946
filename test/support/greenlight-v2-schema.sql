-- Greenlight v2's database, transcribed by hand from db/schema.rb of
-- bigbluebutton/greenlight at commit 606982327ec711d1110b4256935ccd5edc2e9134
-- (tag release-2.14.10, the last v2 release, 2024-05-03; schema version
-- 2022_02_09_094148, unchanged on the v2 branch since): the tables a tenancy's
-- inventory reads, with the column types Rails 5.2 gives them on PostgreSQL
-- (string = character varying, datetime = timestamp without time zone,
-- create_table's id = bigserial), their defaults and indexes. v2's schema has
-- no foreign keys. Left out: active_storage_* (room presentations, which
-- meetplane does not carry) and invitations (nothing the migration API takes).

create table features (
  id bigserial primary key,
  setting_id integer,
  name character varying not null,
  value character varying,
  enabled boolean default false,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null
);
create index index_features_on_name on features (name);
create index index_features_on_setting_id on features (setting_id);

create table role_permissions (
  id bigserial primary key,
  name character varying,
  value character varying default '',
  enabled boolean default false,
  role_id integer,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null
);
create index index_role_permissions_on_role_id on role_permissions (role_id);

create table roles (
  id bigserial primary key,
  name character varying,
  priority integer default 9999,
  can_create_rooms boolean default false,
  send_promoted_email boolean default false,
  send_demoted_email boolean default false,
  can_edit_site_settings boolean default false,
  can_edit_roles boolean default false,
  can_manage_users boolean default false,
  colour character varying,
  provider character varying,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null
);
create unique index index_roles_on_name_and_provider on roles (name, provider);
create index index_roles_on_name on roles (name);
create unique index index_roles_on_priority_and_provider on roles (priority, provider);

create table rooms (
  id bigserial primary key,
  user_id integer,
  name character varying,
  uid character varying,
  bbb_id character varying,
  sessions integer default 0,
  last_session timestamp without time zone,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null,
  room_settings character varying default '{ }',
  moderator_pw character varying,
  attendee_pw character varying,
  access_code character varying,
  deleted boolean not null default false,
  moderator_access_code character varying
);
create index index_rooms_on_bbb_id on rooms (bbb_id);
create index index_rooms_on_deleted on rooms (deleted);
create index index_rooms_on_last_session on rooms (last_session);
create index index_rooms_on_name on rooms (name);
create index index_rooms_on_sessions on rooms (sessions);
create index index_rooms_on_uid on rooms (uid);
create index index_rooms_on_user_id on rooms (user_id);

create table settings (
  id bigserial primary key,
  provider character varying not null,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null
);
create index index_settings_on_provider on settings (provider);

create table shared_accesses (
  id bigserial primary key,
  room_id integer,
  user_id integer,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null
);
create index index_shared_accesses_on_room_id on shared_accesses (room_id);
create index index_shared_accesses_on_user_id on shared_accesses (user_id);

create table users (
  id bigserial primary key,
  room_id integer,
  provider character varying,
  uid character varying,
  name character varying,
  username character varying,
  email character varying,
  social_uid character varying,
  image character varying,
  password_digest character varying,
  accepted_terms boolean default false,
  created_at timestamp without time zone not null,
  updated_at timestamp without time zone not null,
  email_verified boolean default false,
  language character varying default 'default',
  reset_digest character varying,
  reset_sent_at timestamp without time zone,
  activation_digest character varying,
  activated_at timestamp without time zone,
  deleted boolean not null default false,
  role_id integer,
  last_login timestamp without time zone,
  failed_attempts integer,
  last_failed_attempt timestamp without time zone,
  last_pwd_update timestamp without time zone
);
create index index_users_on_created_at on users (created_at);
create index index_users_on_deleted on users (deleted);
create index index_users_on_email on users (email);
create unique index index_users_on_password_digest on users (password_digest);
create index index_users_on_provider on users (provider);
create index index_users_on_role_id on users (role_id);
create index index_users_on_room_id on users (room_id);

-- obsolete since v2.5 (users.role_id replaced it), still in the schema
create table users_roles (
  user_id integer,
  role_id integer
);
create index index_users_roles_on_role_id on users_roles (role_id);
create index index_users_roles_on_user_id_and_role_id on users_roles (user_id, role_id);
create index index_users_roles_on_user_id on users_roles (user_id);
