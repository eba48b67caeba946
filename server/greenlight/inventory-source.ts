// What a source Greenlight's database gives the inventory, whatever its version:
// each version's reader (inventory-v3.ts, inventory-v2.ts) runs its own queries
// inside the inventory's read-only snapshot and answers in these shapes, already
// in Greenlight v3's terms (role and permission names, meeting option and setting
// names, values as strings); inventory.ts decides who and what moves.
import type postgres from 'postgres';
import type { SourceRole, SourceSettings, SourceUser } from './import.js';

export type Tx = postgres.TransactionSql;

export type UserLeftOutReason =
  | 'it has neither a password nor an external ID'
  | 'it has no e-mail address'
  | 'its role does not move (pending, denied, super_admin or none)';

/** One account of the Greenlight's provider that is one of the tenancy's people (by e-mail or subject). */
export interface SourceAccount {
  id: string;
  name: string;
  email: string | null;
  /** The identity provider's subject it signs in with, if any (v3 external_id, v2 social_uid). */
  externalId: string | null;
  login: SourceUser['login'] | undefined;
  /** Its role's id and its name as the target knows roles (v2's "user" is "User"). */
  roleId: string | null;
  role: string | null;
  language: string;
  createdAt: string;
  /** Why it cannot move although it is the tenancy's, when the version says so. */
  blocked?: UserLeftOutReason;
}

export interface SourceRoomRow {
  id: string;
  ownerId: string;
  name: string;
  friendlyId: string;
  meetingId: string;
  lastSession: string | null;
}

/** A share of a room; the sharee's e-mail only when the sharee is one of `memberIds`. */
export interface SourceShareRow {
  roomId: string;
  userId: string;
  memberEmail: string | null;
}

export interface SourceReader {
  /** How a missing table or column is named in errors ("Greenlight v3's"). */
  readonly tablesOf: string;
  /** Accounts under `provider` whose lower-cased e-mail is in `emails` or whose subject is in `subs`. */
  accounts(sql: Tx, q: { provider: string; emails: string[]; subs: string[] }): Promise<SourceAccount[]>;
  /** The roles with these ids, with their permissions in v3 names. */
  roles(sql: Tx, provider: string, roleIds: string[]): Promise<SourceRole[]>;
  /** The rooms these accounts own (not deleted ones). */
  rooms(sql: Tx, ownerIds: string[]): Promise<SourceRoomRow[]>;
  /** The meeting options of these rooms, by room id, in v3 names. */
  roomSettings(sql: Tx, roomIds: string[]): Promise<Map<string, Record<string, string>>>;
  shares(sql: Tx, roomIds: string[], memberIds: string[]): Promise<SourceShareRow[]>;
  /** Greenlight's recordings rows of these rooms (v2 keeps none: it asks BigBlueButton each time). */
  recordings(sql: Tx, roomIds: string[]): Promise<Array<{ meetingId: string; recordId: string }>>;
  /** Site settings and rooms configurations; `notRead` names those the database does not hold. */
  settings(sql: Tx, provider: string): Promise<SourceSettings & { notRead: string[] }>;
}

/** Rails keeps datetimes in UTC, without a zone. */
export const ISO = 'YYYY-MM-DD"T"HH24:MI:SS"Z"';
