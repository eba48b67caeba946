// A pulled recording's metadata.xml links the source's playback host, which stops serving once the
// source's grace period ends: the target rewrites it for its own cluster's playback host, as a local
// transfer does (transfers/playback-links.ts). Only after the file was checked against the manifest
// (whose SHA-256 is of the source's bytes). The source's hosts come from the tenancy's content
// (playback_hosts, covered by the signed manifest): only the source knows every name its cluster's
// links use. peer_transfer_files then holds the rewritten file's size and SHA-256, and in
// source_sha256 the one checked: a resumed pull keeps the file instead of fetching it again or
// taking its bytes for a mismatch.
import { createHash } from 'node:crypto';
import { and, eq, isNotNull } from 'drizzle-orm';
import type { RecordingStorage } from '../storage/types.js';
import type { Manifest } from '../../federation/transfer-messages.js';
import { peerTransferFiles } from './table.js';
import type { PeerTransferDeps } from './deps.js';

export const isMetadataXml = (path: string) => path.endsWith('/metadata.xml');

/** The files of `manifest` rewritten here already (checked first) and still here as rewritten. */
export async function rewrittenFiles(d: PeerTransferDeps, transferId: string, manifest: Manifest, to: RecordingStorage): Promise<Set<string>> {
  const signed = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  const rows = await d.db
    .select({ path: peerTransferFiles.path, size: peerTransferFiles.size, sourceSha256: peerTransferFiles.sourceSha256 })
    .from(peerTransferFiles)
    .where(and(eq(peerTransferFiles.transferId, transferId), isNotNull(peerTransferFiles.sourceSha256)));
  const kept = new Set<string>();
  for (const r of rows) {
    if (signed.get(r.path) !== r.sourceSha256) continue;
    const st = await to.stat(r.path);
    if (st?.isFile && st.size === r.size) kept.add(r.path);
  }
  return kept;
}

/** Rewrites the checked files' playback links, makes them durable, then records them. */
export async function relinkFiles(d: PeerTransferDeps, transferId: string, to: RecordingStorage, files: Manifest['files'], relink: (text: string) => string): Promise<void> {
  const written: Array<{ path: string; size: number; sha256: string; sourceSha256: string }> = [];
  for (const f of files) {
    const bytes = Buffer.from(relink(await to.readText(f.path)), 'utf8');
    await to.writeText(f.path, bytes.toString('utf8'));
    written.push({ path: f.path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), sourceSha256: f.sha256 });
  }
  if (!written.length) return;
  await to.sync(written.map((w) => w.path));
  const doneAt = new Date();
  for (const w of written)
    await d.db
      .insert(peerTransferFiles)
      .values({ transferId, ...w, doneAt })
      .onConflictDoUpdate({ target: [peerTransferFiles.transferId, peerTransferFiles.path], set: { size: w.size, sha256: w.sha256, sourceSha256: w.sourceSha256, doneAt } });
}
