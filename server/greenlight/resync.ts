// What the target Greenlight's operator runs so the moved rooms list their
// recordings. Not `rake server_recordings_sync`: it starts with
// `Format.delete_all; Recording.delete_all`, every provider's recordings, and
// rebuilds only one provider's. Greenlight's RecordingsSync service (what the
// admin "Re-Sync Recordings" action calls) works on one room: it replaces that
// room's rows with what BigBlueButton lists for its meeting_id and keeps each
// recording's visibility from its metadata. Not POST /recording_ready either:
// that path treats the recording as new and sets it to the default visibility
// at BigBlueButton too, publishing what a member had unpublished.

/** Greenlight's friendly_id and provider shapes; anything else would not be safe inside the Ruby literal. */
const FRIENDLY_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const PROVIDER = /^[a-z0-9][a-z0-9_-]*$/i;

/**
 * One `rails runner` line (run in Greenlight's directory or container, e.g.
 * `docker exec greenlight-v3 bundle exec rails runner '…'`) that resyncs
 * exactly these rooms' recordings and nothing else.
 */
export function recordingsResyncCommand(friendlyIds: readonly string[], provider: string): string {
  for (const id of friendlyIds) if (!FRIENDLY_ID.test(id)) throw new RangeError('not a Greenlight friendly_id');
  if (!PROVIDER.test(provider)) throw new RangeError('not a Greenlight provider name');
  const ids = friendlyIds.join(' ');
  const script = `Room.where(friendly_id: %w[${ids}]).find_each { |room| RecordingsSync.new(room: room, provider: "${provider}").call }`;
  return `bundle exec rails runner '${script}'`;
}
