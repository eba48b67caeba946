// Edges of the outbound address policy (server/net/addresses.ts) that the
// main table does not reach: IPv4 hidden in IPv6 in its older forms, public
// addresses that merely look like those forms, and OUTBOUND_ALLOW entries as
// an operator might type them.
import { describe, expect, it } from 'vitest';
import { addressKind, checkAddress, CidrError, cidrList, embeddedIpv4, parseCidr } from '../../server/net/addresses.js';

describe('IPv4 inside IPv6', () => {
  it('is judged as the IPv4 address in the IPv4-compatible form (::a.b.c.d)', () => {
    expect(addressKind('::127.0.0.1')).toBe('loopback');
    expect(addressKind('::a9fe:a9fe')).toBe('cloud metadata');
    expect(addressKind('::10.0.0.1')).toBe('private');
    expect(addressKind('::8.8.8.8')).toBeUndefined();
  });

  it('is judged as the IPv4 address behind NAT64 (64:ff9b::/96), and only there', () => {
    expect(addressKind('64:ff9b::127.0.0.1')).toBe('loopback');
    expect(addressKind('64:ff9b::a9fe:a9fe')).toBe('cloud metadata');
    expect(addressKind('64:ff9a::7f00:1')).toBeUndefined();
    expect(addressKind('65:ff9b::7f00:1')).toBeUndefined();
    expect(addressKind('64:ff9b:0:0:1::7f00:1')).toBeUndefined();
  });

  it('does not read IPv4 addresses as IPv6 forms', () => {
    // 32.2.10.0 written as words would be 2002:0a00::, a 6to4 address of 10.0.0.0.
    expect(addressKind('32.2.10.0')).toBeUndefined();
    expect(checkAddress('32.2.10.0', cidrList([]))).toEqual({ allowed: true });
  });

  it('refuses what is not an address, saying so', () => {
    expect(() => addressKind('metadata.internal')).toThrow(CidrError);
    expect(() => addressKind('metadata.internal')).toThrow('"metadata.internal" is not an IP address');
    expect(() => addressKind('[]')).toThrow(CidrError);
  });
});

describe('OUTBOUND_ALLOW entries', () => {
  it('are read with spaces around them, as bare addresses or ranges', () => {
    expect(parseCidr(' 10.0.0.0/8 ')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('fd00::1')).toEqual({ address: 'fd00::1', prefix: 128, family: 'ipv6' });
    expect(parseCidr('192.168.1.7')).toEqual({ address: '192.168.1.7', prefix: 32, family: 'ipv4' });
    expect(parseCidr('0.0.0.0/0').prefix).toBe(0);
    expect(parseCidr('::/128').prefix).toBe(128);
  });

  it('refuse prefixes that are not 0 to the family\'s length, written as digits only', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8x', '10.0.0.0/x8', '10.0.0.0/', '10.0.0.0/1e1', 'fd00::/129', 'fd00::/0128'])
      expect(() => parseCidr(bad), bad).toThrow(CidrError);
    expect(() => parseCidr('10.0.0.0/33')).toThrow('"10.0.0.0/33": the prefix length must be 0..32');
    expect(() => parseCidr('10.0.0.0/8/8')).toThrow('"10.0.0.0/8/8" is not an IP address or CIDR range');
    expect(() => parseCidr('ten.0.0.0/8')).toThrow(CidrError);
  });

  it('open an embedded private address when its IPv4 range is listed', () => {
    const allow = cidrList(['10.0.0.0/8']);
    expect(checkAddress('::ffff:10.1.2.3', allow)).toEqual({ allowed: true });
    expect(checkAddress('[::ffff:10.1.2.3]', allow)).toEqual({ allowed: true });
    expect(checkAddress('[fe80::1]', cidrList(['fe80::/10']))).toEqual({ allowed: true });
    expect(checkAddress('::ffff:169.254.169.254', cidrList(['169.254.0.0/16']))).toEqual({ allowed: false, kind: 'cloud metadata', listable: false });
  });
});

// A host from a URL comes in brackets ([::1]) and may carry a zone id
// (fe80::1%eth0, or %25eth0 as URLs encode it): each written form is judged,
// and listed in OUTBOUND_ALLOW, exactly as the bare address.
describe('bracketed and zoned IPv6 addresses', () => {
  it.each([
    ['[::1]', '::1', 'loopback'],
    ['[fe80::1%eth0]', 'fe80::1', 'link-local'],
    ['fe80::1%25eth0', 'fe80::1', 'link-local'],
    ['fe80::1%eth0.100', 'fe80::1', 'link-local'],
    ['[fd12:3456::1%wg0]', 'fd12:3456::1', 'private'],
    ['[::ffff:127.0.0.1]', '::ffff:127.0.0.1', 'loopback'],
    ['::ffff:192.168.1.1%eth0', '::ffff:192.168.1.1', 'private'],
    ['[64:ff9b::a9fe:a9fe%x]', '64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['[2001:db8::1]', '2001:db8::1', 'reserved'],
    ['[2606:4700:4700::1111]', '2606:4700:4700::1111', undefined],
  ])('%s is judged as %s (%s)', (written, bare, kind) => {
    expect(addressKind(written)).toBe(kind);
    expect(addressKind(bare)).toBe(kind);
  });

  it('finds the IPv4 address behind a zoned IPv4-mapped address', () => {
    expect(embeddedIpv4('::ffff:192.168.1.1%eth0')).toBe('192.168.1.1');
    expect(embeddedIpv4('::ffff:7f00:1%lo')).toBe('127.0.0.1');
  });

  it.each([
    ['[fe80::1%eth0]', ['fe80::/10']],
    ['fe80::1%25eth0', ['fe80::/10']],
    ['[fd12:3456::1%wg0]', ['fd12:3456::/32']],
    ['[::ffff:10.0.0.1]', ['10.0.0.0/8']],
    ['[::1]', ['::1/128']],
  ])('%s is allowed when its range is listed, refused (and listable) when not', (written, allow) => {
    expect(checkAddress(written, cidrList(allow))).toEqual({ allowed: true });
    expect(checkAddress(written, cidrList([]))).toMatchObject({ allowed: false, listable: true });
  });

  it('refuses brackets or a zone around something that is not an address', () => {
    expect(() => addressKind('[meet.example.org]')).toThrow(CidrError);
    expect(() => addressKind('[]')).toThrow(CidrError);
    expect(() => addressKind('%eth0')).toThrow(CidrError);
  });
});
