// Reads a source Greenlight v3's database (schema at commit 15db765b, see
// test/support/greenlight-v3-schema.sql) for the inventory. v3 already speaks the
// migration API's terms: names and values travel as Greenlight stores them.
// Accounts sign in either locally (password_digest) or through the instance's
// identity provider (external_id = its subject), both under the instance's
// provider ("greenlight" or a tenant's name).
import type { SourceRole } from './import.js';
import { ISO, type SourceAccount, type SourceReader } from './inventory-source.js';

export const v3Reader: SourceReader = {
  tablesOf: "Greenlight v3's",

  async accounts(sql, { provider, emails, subs }) {
    const rows = await sql<
      Array<{ id: string; name: string; email: string; external_id: string | null; password_digest: string | null; language: string; created_at: string; role_id: string | null; role: string | null }>
    >`
      select u.id, u.name, u.email, u.external_id, u.password_digest, u.language, to_char(u.created_at, ${ISO}) as created_at, r.id as role_id, r.name as role
      from users u left join roles r on r.id = u.role_id
      where u.provider = ${provider} and (lower(u.email) = any(${emails}::text[]) or u.external_id = any(${subs}::text[]))
      order by u.created_at, u.id`;
    return rows.map(
      (a): SourceAccount => ({
        id: a.id,
        name: a.name,
        email: a.email,
        externalId: a.external_id,
        // external_id wins: Greenlight treats such an account as the identity provider's, whatever digest it kept.
        login: a.external_id ? { kind: 'oidc', sub: a.external_id } : a.password_digest ? { kind: 'local', passwordDigest: a.password_digest } : undefined,
        roleId: a.role_id,
        role: a.role,
        language: a.language,
        createdAt: a.created_at,
      }),
    );
  },

  async roles(sql, provider, roleIds) {
    const rows = await sql<Array<{ role: string; permission: string | null; value: string | null }>>`
      select r.name as role, p.name as permission, rp.value
      from roles r left join role_permissions rp on rp.role_id = r.id left join permissions p on p.id = rp.permission_id
      where r.provider = ${provider} and r.id = any(${roleIds}::uuid[])
      order by r.name, p.name`;
    const roles = new Map<string, SourceRole>();
    for (const row of rows) {
      const role = roles.get(row.role) ?? { name: row.role, permissions: {} };
      if (row.permission && row.value !== null) role.permissions[row.permission] = row.value;
      roles.set(row.role, role);
    }
    return [...roles.values()];
  },

  async rooms(sql, ownerIds) {
    const rows = await sql<Array<{ id: string; name: string; friendly_id: string; meeting_id: string; last_session: string | null; owner_id: string }>>`
      select r.id, r.name, r.friendly_id, r.meeting_id, to_char(r.last_session, ${ISO}) as last_session, r.user_id as owner_id
      from rooms r
      where r.user_id = any(${ownerIds}::uuid[])
      order by r.created_at, r.friendly_id`;
    return rows.map((r) => ({ id: r.id, ownerId: r.owner_id, name: r.name, friendlyId: r.friendly_id, meetingId: r.meeting_id, lastSession: r.last_session }));
  },

  async roomSettings(sql, roomIds) {
    const rows = await sql<Array<{ room_id: string; name: string; value: string | null }>>`
      select rmo.room_id, mo.name, rmo.value
      from room_meeting_options rmo join meeting_options mo on mo.id = rmo.meeting_option_id
      where rmo.room_id = any(${roomIds}::uuid[]) and mo.name is not null
      order by mo.name`;
    const out = new Map<string, Record<string, string>>();
    for (const o of rows) if (o.value !== null) (out.get(o.room_id) ?? out.set(o.room_id, {}).get(o.room_id)!)[o.name] = o.value;
    return out;
  },

  async shares(sql, roomIds, memberIds) {
    // A sharee's e-mail is fetched only when it is one of the tenancy's members: an outsider's never leaves the source.
    const rows = await sql<Array<{ room_id: string; user_id: string; member_email: string | null }>>`
      select sa.room_id, sa.user_id, case when u.id = any(${memberIds}::uuid[]) then u.email end as member_email
      from shared_accesses sa join users u on u.id = sa.user_id
      where sa.room_id = any(${roomIds}::uuid[])
      order by sa.created_at, sa.id`;
    return rows.map((s) => ({ roomId: s.room_id, userId: s.user_id, memberEmail: s.member_email }));
  },

  async recordings(sql, roomIds) {
    const rows = await sql<Array<{ meeting_id: string; record_id: string }>>`
      select r.meeting_id, rec.record_id
      from recordings rec join rooms r on r.id = rec.room_id
      where rec.room_id = any(${roomIds}::uuid[])
      order by r.meeting_id, rec.recorded_at nulls last, rec.record_id`;
    return rows.map((r) => ({ meetingId: r.meeting_id, recordId: r.record_id }));
  },

  async settings(sql, provider) {
    const site = await sql<Array<{ name: string; value: string }>>`
      select s.name, ss.value from site_settings ss join settings s on s.id = ss.setting_id
      where ss.provider = ${provider} and s.name is not null order by s.name`;
    const configurations = await sql<Array<{ name: string; value: string }>>`
      select mo.name, rc.value from rooms_configurations rc join meeting_options mo on mo.id = rc.meeting_option_id
      where rc.provider = ${provider} and mo.name is not null order by mo.name`;
    return {
      siteSettings: Object.fromEntries(site.map((s) => [s.name, s.value])),
      roomsConfigurations: Object.fromEntries(configurations.map((c) => [c.name, c.value])),
      notRead: [],
    };
  },
};
