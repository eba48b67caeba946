// The source's tenancy content for a transfer between instances (federation/tenancy-content.ts):
// read from the frozen tenancy when it is packaged. Members who objected to the transfer (a row in
// transfer_objections under the transfer's id) are left out: nothing of theirs is sent; so are the
// recordings `leaveOut` names (past the tenancy's retention: deleted at the source, never moved). The
// text holds the tenancy's BBB secret: it is kept sealed and served only to the target (files-routes.ts).
import { and, asc, eq, isNull, notExists } from 'drizzle-orm';
import type { Executor } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import { openTenancySecret, type Tenancy } from '../tenancies/service.js';
import { findCluster, playbackHostsOf } from '../clusters/service.js';
import { recordings, rooms } from '../inventory/table.js';
import { accounts, memberships } from '../accounts/table.js';
import { transferObjections } from '../transfers/table.js';
import { tenancyContentSchema, type TenancyContent } from '../../federation/tenancy-content.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export async function buildTenancyContent(db: Executor, box: SecretBox, tenancy: Tenancy, transferId: string, leaveOut: readonly string[] = []): Promise<TenancyContent> {
  const left = new Set(leaveOut);
  const roomRows = await db.select().from(rooms).where(eq(rooms.tenancyId, tenancy.id)).orderBy(asc(rooms.meetingId));
  const recordingRows = (await db.select().from(recordings).where(eq(recordings.tenancyId, tenancy.id)).orderBy(asc(recordings.recordId))).filter((r) => !left.has(r.recordId));
  // The cluster the package's files are read from: its recordings link these hosts.
  const cluster = (await findCluster(db, tenancy.clusterId))!;
  const members = await db
    .select({ email: accounts.email, name: accounts.name, language: accounts.language, role: memberships.role })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(
      and(
        eq(memberships.tenancyId, tenancy.id),
        // An erased account's address is a tombstone: nobody to invite at the target.
        isNull(accounts.erasedAt),
        notExists(db.select({ one: transferObjections.accountId }).from(transferObjections).where(and(eq(transferObjections.transferId, transferId), eq(transferObjections.accountId, memberships.accountId)))),
      ),
    )
    .orderBy(asc(accounts.email));
  const content: TenancyContent = {
    transfer_id: transferId,
    tenancy: {
      id: tenancy.id,
      name: tenancy.name,
      slug: tenancy.slug,
      retention_days: tenancy.retentionDays,
      residency: tenancy.residency,
      language: tenancy.language,
      bbb_secret: await openTenancySecret(db, box, tenancy.id),
    },
    rooms: roomRows.map((r) => ({
      meeting_id: r.meetingId,
      name: r.name,
      recording_ready_url: r.recordingReadyUrl,
      first_seen_at: r.firstSeenAt.toISOString(),
      last_created_at: iso(r.lastCreatedAt),
      ended_at: iso(r.endedAt),
    })),
    recordings: recordingRows.map((r) => ({
      record_id: r.recordId,
      meeting_id: r.meetingId,
      name: r.name,
      state: r.state,
      published: r.published,
      start_time: iso(r.startTime),
      end_time: iso(r.endTime),
      participants: r.participants,
      size: r.size,
      formats: r.formats.map((f) => ({ type: f.type, url: f.url, length: f.length, processing_time: f.processingTime })),
      metadata: r.metadata,
    })),
    playback_hosts: playbackHostsOf(cluster).map((h) => h.toLowerCase()),
    members,
  };
  // What the target will check: a tenancy this instance holds must pass it (a malformed one is ours to mend, not the target's).
  return tenancyContentSchema.parse(content);
}
