// The address policy of server-side requests: which addresses are refused, under
// which name, and what OUTBOUND_ALLOW can open.
import { describe, expect, it } from 'vitest';
import { addressKind, checkAddress, cidrList, embeddedIpv4, parseCidr } from '../../server/net/addresses.js';
import { loadConfig } from '../../server/config.js';

const none = cidrList([]);

describe('address kinds', () => {
  it.each([
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.170.2', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['100.127.255.255', 'shared (carrier-grade NAT)'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    // IPv6 forms of IPv4 addresses are judged as the IPv4 address they reach
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:169.254.169.254]', 'cloud metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
    expect(checkAddress(address, none)).toMatchObject({ allowed: false, kind });
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '192.169.0.1', '11.0.0.1', '2a00:1450:4001::1', '::ffff:8.8.8.8', '2002:808:808::'])(
    '%s is public and allowed',
    (address) => {
      expect(addressKind(address)).toBeUndefined();
      expect(checkAddress(address, none)).toEqual({ allowed: true });
    },
  );

  it('finds the IPv4 address inside mapped, compatible, NAT64 and 6to4 IPv6 addresses', () => {
    expect(embeddedIpv4('::ffff:192.168.0.1')).toBe('192.168.0.1');
    expect(embeddedIpv4('::ffff:c0a8:1')).toBe('192.168.0.1');
    expect(embeddedIpv4('64:ff9b::c0a8:1')).toBe('192.168.0.1');
    expect(embeddedIpv4('2002:c0a8:1::1')).toBe('192.168.0.1');
    expect(embeddedIpv4('::1')).toBeUndefined();
    expect(embeddedIpv4('2a00::1')).toBeUndefined();
    expect(embeddedIpv4('10.0.0.1')).toBeUndefined();
  });
});

describe('OUTBOUND_ALLOW', () => {
  it('opens the listed ranges only', () => {
    const lan = cidrList(['10.1.0.0/16', 'fd12::/16']);
    expect(checkAddress('10.1.2.3', lan)).toEqual({ allowed: true });
    expect(checkAddress('::ffff:10.1.2.3', lan)).toEqual({ allowed: true });
    expect(checkAddress('fd12::5', lan)).toEqual({ allowed: true });
    expect(checkAddress('10.2.0.1', lan)).toMatchObject({ allowed: false, kind: 'private', listable: true });
    expect(checkAddress('127.0.0.1', lan)).toMatchObject({ allowed: false, kind: 'loopback' });
  });

  it('opens loopback when listed (as the tests do), single addresses too', () => {
    expect(checkAddress('127.0.0.1', cidrList(['127.0.0.0/8']))).toEqual({ allowed: true });
    expect(checkAddress('::ffff:127.0.0.1', cidrList(['127.0.0.0/8']))).toEqual({ allowed: true });
    expect(checkAddress('::1', cidrList(['127.0.0.0/8']))).toMatchObject({ allowed: false, kind: 'loopback' });
    expect(checkAddress('::1', cidrList(['::1']))).toEqual({ allowed: true });
    expect(checkAddress('127.0.0.2', cidrList(['127.0.0.1']))).toMatchObject({ allowed: false });
  });

  it('never opens cloud metadata, unspecified, multicast or broadcast addresses, even when listed', () => {
    const everything = cidrList(['0.0.0.0/0', '::/0']);
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'ff02::1'])
      expect(checkAddress(address, everything)).toMatchObject({ allowed: false, listable: false });
    expect(checkAddress('169.254.10.10', everything)).toEqual({ allowed: true });
    expect(checkAddress('192.168.0.1', everything)).toEqual({ allowed: true });
  });

  it('is read from the environment as comma-separated CIDRs, and bad entries are a configuration error', () => {
    expect(loadConfig({}).outboundAllow).toEqual([]);
    expect(loadConfig({ OUTBOUND_ALLOW: '' }).outboundAllow).toEqual([]);
    expect(loadConfig({ OUTBOUND_ALLOW: ' 10.0.0.0/8, fd00::/8 ,127.0.0.1' }).outboundAllow).toEqual(['10.0.0.0/8', 'fd00::/8', '127.0.0.1']);
    expect(() => loadConfig({ OUTBOUND_ALLOW: '10.0.0.0/33' })).toThrow(/OUTBOUND_ALLOW.*prefix length must be 0\.\.32/);
    expect(() => loadConfig({ OUTBOUND_ALLOW: 'intranet.example' })).toThrow(/OUTBOUND_ALLOW.*not an IP address or CIDR/);
    expect(() => parseCidr('10.0.0.0/8/1')).toThrow();
    expect(() => parseCidr('10.0.0.0/x')).toThrow();
  });
});
