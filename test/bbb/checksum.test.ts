import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_ALGORITHMS,
  checksum,
  detectAlgorithm,
  signQuery,
  splitChecksum,
  verifyChecksum,
} from '../../server/bbb/checksum.js';

const SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';

describe('checksum', () => {
  it('matches the worked example of the BBB API reference', () => {
    const query = 'name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444';
    expect(checksum('create', query, SECRET, 'sha1')).toBe('1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17');
  });

  it('signs the query string exactly as it is sent', () => {
    const signed = signQuery('create', { name: 'Test Meeting', meetingID: 'abc123', attendeePW: '111222', moderatorPW: '333444' }, SECRET, 'sha1');
    expect(signed).toBe(
      'name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444&checksum=1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17',
    );
    expect(signQuery('create', new URLSearchParams({ name: 'Test Meeting', meetingID: 'abc123', attendeePW: '111222', moderatorPW: '333444' }), SECRET, 'sha1')).toBe(signed);
    expect(signQuery('getMeetings', {}, SECRET, 'sha256')).toBe(`checksum=${checksum('getMeetings', '', SECRET, 'sha256')}`);
  });

  it.each(CHECKSUM_ALGORITHMS)('verifies %s and detects it from the length', (alg) => {
    const signed = signQuery('getMeetingInfo', { meetingID: 'room 1/ü&x' }, SECRET, alg);
    expect(verifyChecksum('getMeetingInfo', signed, SECRET, alg)).toBe(true);
    expect(verifyChecksum('getMeetingInfo', signed, SECRET, CHECKSUM_ALGORITHMS)).toBe(true);
    expect(detectAlgorithm(splitChecksum(signed)!.checksum)).toBe(alg);
  });

  it('refuses a wrong secret, another call, an altered or reordered query', () => {
    const signed = signQuery('join', { meetingID: 'm1', fullName: 'Ann', role: 'VIEWER' }, SECRET, 'sha256');
    expect(verifyChecksum('join', signed, 'other-secret', 'sha256')).toBe(false);
    expect(verifyChecksum('end', signed, SECRET, 'sha256')).toBe(false);
    expect(verifyChecksum('join', signed.replace('VIEWER', 'MODERATOR'), SECRET, 'sha256')).toBe(false);
    expect(verifyChecksum('join', `${signed}&role=MODERATOR`, SECRET, 'sha256')).toBe(false);
    const [a, b, c, sum] = signed.split('&');
    expect(verifyChecksum('join', [b, a, c, sum].join('&'), SECRET, 'sha256')).toBe(false);
  });

  it('accepts the checksum anywhere in the query and in upper case, like bbb-web', () => {
    const signed = signQuery('end', { meetingID: 'm1' }, SECRET, 'sha1');
    const sum = splitChecksum(signed)!.checksum;
    expect(verifyChecksum('end', `checksum=${sum}&meetingID=m1`, SECRET, 'sha1')).toBe(true);
    expect(verifyChecksum('end', `meetingID=m1&checksum=${sum.toUpperCase()}`, SECRET, 'sha1')).toBe(true);
  });

  it('refuses algorithms the endpoint does not accept, and missing or doubled checksums', () => {
    const signed = signQuery('end', { meetingID: 'm1' }, SECRET, 'sha1');
    expect(verifyChecksum('end', signed, SECRET, ['sha256', 'sha512'])).toBe(false);
    expect(verifyChecksum('end', 'meetingID=m1', SECRET, 'sha1')).toBe(false);
    expect(verifyChecksum('end', `${signed}&${signed.split('&')[1]}`, SECRET, 'sha1')).toBe(false);
    expect(verifyChecksum('end', 'meetingID=m1&checksum=', SECRET, 'sha1')).toBe(false);
    expect(verifyChecksum('getMeetings', '', SECRET, 'sha1')).toBe(false);
  });

  it('detects only hex checksums of the four known lengths', () => {
    expect(detectAlgorithm('a'.repeat(40))).toBe('sha1');
    expect(detectAlgorithm('A'.repeat(64))).toBe('sha256');
    expect(detectAlgorithm('0'.repeat(96))).toBe('sha384');
    expect(detectAlgorithm('f'.repeat(128))).toBe('sha512');
    expect(detectAlgorithm('a'.repeat(32))).toBeUndefined();
    expect(detectAlgorithm('g'.repeat(40))).toBeUndefined();
    // One character that is not hex, first, last or inside, and the checksum is no checksum.
    for (const sum of ['g' + 'a'.repeat(39), 'a'.repeat(39) + 'g', 'a'.repeat(20) + ' ' + 'a'.repeat(19), 'a'.repeat(63) + '\n']) expect(detectAlgorithm(sum)).toBeUndefined();
  });
});
