import { describe, expect, it } from 'vitest';
import { recordingsResyncCommand } from '../../server/greenlight/resync.js';

describe('the recordings resync command for the target operator', () => {
  it('resyncs exactly the moved rooms through RecordingsSync, never server_recordings_sync', () => {
    expect(recordingsResyncCommand(['abc-def-ghi-jkl', 'xyz-123-456-789'], 'greenlight')).toBe(
      `bundle exec rails runner 'Room.where(friendly_id: %w[abc-def-ghi-jkl xyz-123-456-789]).find_each { |room| RecordingsSync.new(room: room, provider: "greenlight").call }'`,
    );
  });

  it('refuses anything that could break out of the Ruby or shell quoting', () => {
    expect(() => recordingsResyncCommand(["abc'; rm -rf /"], 'greenlight')).toThrow(RangeError);
    expect(() => recordingsResyncCommand(['abc]'], 'greenlight')).toThrow(RangeError);
    expect(() => recordingsResyncCommand(['abc-def'], 'x" + `id` + "')).toThrow(RangeError);
  });
});
