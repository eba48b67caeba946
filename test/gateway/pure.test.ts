import { describe, expect, it } from 'vitest';
import { scaleliteLoad } from '../../server/clusters/health.js';
import type { MeetingInfo } from '../../server/bbb/client.js';
import { encodeParam, isMeta, joinQuery, param, parseQuery } from '../../server/gateway/query.js';
import { slugFromHost } from '../../server/gateway/target.js';
import { loadConfig } from '../../server/config.js';

const meeting = (participantCount: number, moderatorCount: number, ageMs: number, now: number) =>
  ({ participantCount, moderatorCount, createTime: String(now - ageMs) }) as MeetingInfo;

describe('Scalelite load', () => {
  const now = Date.UTC(2025, 0, 1, 12);
  it('counts participants plus moderators, at least 15 for meetings younger than 15 minutes', () => {
    expect(scaleliteLoad([], now)).toBe(0);
    expect(scaleliteLoad([meeting(3, 1, 60_000, now)], now)).toBe(15);
    expect(scaleliteLoad([meeting(20, 2, 60_000, now)], now)).toBe(22);
    expect(scaleliteLoad([meeting(3, 1, 16 * 60_000, now)], now)).toBe(4);
    expect(scaleliteLoad([meeting(3, 1, 16 * 60_000, now), meeting(0, 0, 0, now)], now)).toBe(19);
  });
});

describe('gateway query handling', () => {
  it('keeps the raw text of the parts it passes on', () => {
    const parts = parseQuery('name=Big+Room%20A&meetingID=r%2C1&META_Meetplane-Tenancy=x&empty=');
    expect(param(parts, 'name')).toBe('Big Room A');
    expect(param(parts, 'meetingID')).toBe('r,1');
    expect(parts.filter((p) => isMeta(p, 'meetplane-tenancy')).map((p) => p.raw)).toEqual(['META_Meetplane-Tenancy=x']);
    const kept = parts.filter((p) => !isMeta(p, 'meetplane-tenancy'));
    expect(joinQuery([...kept, encodeParam('meta_meetplane-tenancy', 'a b&c')])).toBe('name=Big+Room%20A&meetingID=r%2C1&empty=&meta_meetplane-tenancy=a+b%26c');
    expect(parseQuery('')).toEqual([]);
  });

  it('reads the tenancy from a host name under the suffix only', () => {
    expect(slugFromHost('school.bbb.example.org', 'bbb.example.org')).toBe('school');
    expect(slugFromHost('School.BBB.example.org:8443', 'bbb.example.org')).toBe('school');
    expect(slugFromHost('bbb.example.org', 'bbb.example.org')).toBeUndefined();
    expect(slugFromHost('a.b.bbb.example.org', 'bbb.example.org')).toBeUndefined();
    expect(slugFromHost('school.evil-bbb.example.org', 'bbb.example.org')).toBeUndefined();
    expect(slugFromHost(undefined, 'bbb.example.org')).toBeUndefined();
  });

  it('defaults the host suffix to the public URL host, and the worker to on', () => {
    const c = loadConfig({ PUBLIC_URL: 'https://Meet.Example.org/', MASTER_KEY: 'x' });
    expect(c.gatewayHostSuffix).toBe('meet.example.org');
    expect(c.worker).toBe(true);
    expect(c.pollIntervalMs).toBe(60_000);
    expect(loadConfig({ WORKER: 'off', POLL_INTERVAL: '5', GATEWAY_HOST_SUFFIX: 'bbb.example.org' })).toMatchObject({ worker: false, pollIntervalMs: 5_000, gatewayHostSuffix: 'bbb.example.org' });
    expect(() => loadConfig({ WORKER: 'maybe' })).toThrow(/WORKER/);
  });
});
