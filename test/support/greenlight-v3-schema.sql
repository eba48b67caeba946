-- Greenlight v3's database, transcribed by hand from db/schema.rb of
-- bigbluebutton/greenlight at commit 15db765b7fab10414df1a838ae8b3501b215cec4
-- (master, 2026-07-17, schema version 2026_04_02_000000): the tables a
-- tenancy's inventory reads, with Rails' column types as PostgreSQL creates
-- them (string = character varying, datetime = timestamp(6) without time zone),
-- their defaults, unique indexes and foreign keys. Left out: active_storage_*,
-- data_migrations, formats, invitations (nothing the migration API carries).
-- gen_random_uuid() is built into PostgreSQL 13+ (schema.rb enables pgcrypto for it).

create table tenants (
  id uuid primary key default gen_random_uuid(),
  name character varying not null,
  client_secret character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null,
  region character varying
);
create unique index index_tenants_on_name on tenants (name);

create table roles (
  id uuid primary key default gen_random_uuid(),
  name character varying not null,
  color character varying not null default '',
  provider character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create unique index index_roles_on_name_and_provider on roles (name, provider);

create table permissions (
  id uuid primary key default gen_random_uuid(),
  name character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);

create table role_permissions (
  id uuid primary key default gen_random_uuid(),
  role_id uuid references roles (id),
  permission_id uuid references permissions (id),
  value character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create index index_role_permissions_on_permission_id on role_permissions (permission_id);
create index index_role_permissions_on_role_id on role_permissions (role_id);

create table users (
  id uuid primary key default gen_random_uuid(),
  name character varying not null,
  email character varying not null,
  external_id character varying,
  provider character varying not null,
  password_digest character varying,
  last_login timestamp(6) without time zone,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null,
  role_id uuid references roles (id),
  language character varying not null,
  reset_digest character varying,
  reset_sent_at timestamp(6) without time zone,
  verified boolean default false,
  verification_digest character varying,
  verification_sent_at timestamp(6) without time zone,
  session_token character varying,
  session_expiry timestamp(6) without time zone,
  status integer default 0
);
create unique index index_users_on_email_and_provider on users (email, provider);
create unique index index_users_on_reset_digest on users (reset_digest);
create index index_users_on_role_id on users (role_id);
create unique index index_users_on_session_token on users (session_token);
create unique index index_users_on_verification_digest on users (verification_digest);

create table rooms (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references users (id),
  name character varying not null,
  friendly_id character varying not null,
  meeting_id character varying not null,
  last_session timestamp(6) without time zone,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null,
  recordings_processing integer default 0,
  online boolean default false
);
create unique index index_rooms_on_friendly_id on rooms (friendly_id);
create unique index index_rooms_on_meeting_id on rooms (meeting_id);
create index index_rooms_on_user_id on rooms (user_id);

create table meeting_options (
  id uuid primary key default gen_random_uuid(),
  name character varying,
  default_value character varying,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create unique index index_meeting_options_on_name on meeting_options (name);

create table room_meeting_options (
  id uuid primary key default gen_random_uuid(),
  room_id uuid references rooms (id),
  meeting_option_id uuid references meeting_options (id),
  value character varying,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create index index_room_meeting_options_on_meeting_option_id on room_meeting_options (meeting_option_id);
create index index_room_meeting_options_on_room_id on room_meeting_options (room_id);

create table rooms_configurations (
  id uuid primary key default gen_random_uuid(),
  meeting_option_id uuid references meeting_options (id),
  provider character varying not null,
  value character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create unique index index_rooms_configurations_on_meeting_option_id_and_provider on rooms_configurations (meeting_option_id, provider);
create index index_rooms_configurations_on_meeting_option_id on rooms_configurations (meeting_option_id);

create table shared_accesses (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id),
  room_id uuid not null references rooms (id),
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create index index_shared_accesses_on_room_id on shared_accesses (room_id);
create unique index index_shared_accesses_on_user_id_and_room_id on shared_accesses (user_id, room_id);
create index index_shared_accesses_on_user_id on shared_accesses (user_id);

create table settings (
  id uuid primary key default gen_random_uuid(),
  name character varying,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create unique index index_settings_on_name on settings (name);

create table site_settings (
  id uuid primary key default gen_random_uuid(),
  setting_id uuid references settings (id),
  value character varying not null,
  provider character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null
);
create index index_site_settings_on_setting_id on site_settings (setting_id);

create table recordings (
  id uuid primary key default gen_random_uuid(),
  room_id uuid references rooms (id),
  name character varying not null,
  record_id character varying not null,
  created_at timestamp(6) without time zone not null,
  updated_at timestamp(6) without time zone not null,
  visibility character varying not null,
  length integer not null,
  participants integer not null,
  protectable boolean,
  recorded_at timestamp(6) without time zone
);
create index index_recordings_on_room_id on recordings (room_id);
