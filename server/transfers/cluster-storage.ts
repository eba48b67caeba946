// Where each cluster keeps its recordings (file:// or sftp://): the BBB recordings
// root, /var/bigbluebutton, whose published, unpublished and deleted trees a
// transfer reads and writes (storage/bbb-layout.ts); a URL naming the published
// tree itself is read as its parent. Credentials are sealed under the master
// key like the cluster's API secret.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import type { SecretBox } from '../crypto/secretbox.js';
import type { Principal } from '../auth/principal.js';
import { appendAudit } from '../audit/trail.js';
import { openStorage, recordingsRootUrl, type RecordingStorage } from '../storage/index.js';
import { clusterStorage } from './table.js';

export const STORAGE_LABEL = (clusterId: string) => `cluster-storage:${clusterId}`;

/** Sets where a cluster's recordings live; credentials are sealed and never shown again. */
export async function setClusterStorage(
  db: Db,
  box: SecretBox,
  actor: Principal,
  clusterId: string,
  url: string,
  credentials: Record<string, string> | null,
): Promise<void> {
  // Opening it once refuses a malformed URL or a password inside it before anything is stored.
  await openStorage(url, credentials ?? {}).close();
  const sealed = credentials && Object.keys(credentials).length ? box.seal(JSON.stringify(credentials), STORAGE_LABEL(clusterId)) : null;
  await db.transaction(async (tx) => {
    await tx
      .insert(clusterStorage)
      .values({ clusterId, url, credentialsSealed: sealed })
      .onConflictDoUpdate({ target: clusterStorage.clusterId, set: { url, credentialsSealed: sealed, updatedAt: new Date() } });
    await appendAudit(tx, { actor, action: 'cluster.storage', subject: { type: 'cluster', id: clusterId }, after: { url, credentials: sealed !== null } });
  });
}

export async function clusterStorageUrl(db: Db, clusterId: string): Promise<{ url: string; hasCredentials: boolean } | undefined> {
  const [row] = await db.select().from(clusterStorage).where(eq(clusterStorage.clusterId, clusterId));
  return row && { url: row.url, hasCredentials: row.credentialsSealed !== null };
}

/** Opens a cluster's recordings root; the caller closes it. */
export async function openClusterStorage(db: Db, box: SecretBox, clusterId: string): Promise<RecordingStorage> {
  const [row] = await db.select().from(clusterStorage).where(eq(clusterStorage.clusterId, clusterId));
  if (!row) throw new Error(`cluster ${clusterId} has no recording storage configured`);
  const creds = row.credentialsSealed ? (JSON.parse(box.open(row.credentialsSealed, STORAGE_LABEL(clusterId))) as Record<string, string>) : {};
  return openStorage(recordingsRootUrl(row.url), creds);
}

/** Runs `use` with a cluster's storage open, and closes it. */
export async function withClusterStorage<T>(db: Db, box: SecretBox, clusterId: string, use: (s: RecordingStorage) => Promise<T>): Promise<T> {
  const storage = await openClusterStorage(db, box, clusterId);
  try {
    return await use(storage);
  } finally {
    await storage.close();
  }
}
