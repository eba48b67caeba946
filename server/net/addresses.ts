// Which IP addresses a server-side request may connect to. Public unicast
// addresses are allowed; the special ranges below are refused, and the
// operator may open the "private-ish" ones (loopback, private, link-local,
// shared, reserved) by listing CIDRs in OUTBOUND_ALLOW. Cloud metadata,
// unspecified, multicast and broadcast addresses are refused even if listed:
// no BBB server lives there. Matching uses node:net's BlockList.
import { BlockList, isIP } from 'node:net';

export type RefusedKind =
  | 'cloud metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'loopback'
  | 'link-local'
  | 'private'
  | 'shared (carrier-grade NAT)'
  | 'reserved';

/** Kinds the operator may open with OUTBOUND_ALLOW. */
const ALLOWABLE: ReadonlySet<RefusedKind> = new Set(['loopback', 'link-local', 'private', 'shared (carrier-grade NAT)', 'reserved']);

// Checked in this order: the first match names the kind (metadata before link-local).
const RANGES: ReadonlyArray<readonly [RefusedKind, readonly string[]]> = [
  [
    'cloud metadata',
    [
      '169.254.169.254/32', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
      '169.254.169.253/32', // AWS DNS
      '169.254.170.2/32', // AWS ECS task metadata
      '169.254.170.23/32', // AWS EKS pod identity
      '100.100.100.200/32', // Alibaba Cloud
      '192.0.0.192/32', // Oracle Cloud (legacy)
      'fd00:ec2::254/128', // AWS over IPv6
      'fd00:ec2::253/128',
      'fd00:ec2::23/128',
    ],
  ],
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  ['broadcast', ['255.255.255.255/32']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fec0::/10', '64:ff9b:1::/48']],
  ['shared (carrier-grade NAT)', ['100.64.0.0/10']],
  [
    'reserved',
    [
      '192.0.0.0/24', // IETF protocol assignments
      '192.0.2.0/24', // documentation
      '198.51.100.0/24',
      '203.0.113.0/24',
      '192.88.99.0/24', // 6to4 relay anycast
      '198.18.0.0/15', // benchmarking
      '240.0.0.0/4', // future use
      '100::/64', // discard
      '2001::/32', // Teredo: tunnels to an IPv4 address of anyone's choosing
      '2001:db8::/32', // documentation
      '3fff::/20',
    ],
  ],
];

export class CidrError extends Error {}

/** Parses `a.b.c.d/n`, `x::y/n` or a bare address (a /32 or /128). */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [addr = '', bits, extra] = text.trim().split('/');
  const version = isIP(addr);
  if (extra !== undefined || version === 0) throw new CidrError(`"${text}" is not an IP address or CIDR range`);
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new CidrError(`"${text}": the prefix length must be 0..${max}`);
  return { address: addr, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A BlockList of CIDRs; an IPv4 entry also matches its IPv4-mapped IPv6 form. */
export function cidrList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const { address, prefix, family } = parseCidr(c);
    list.addSubnet(address, prefix, family);
  }
  return list;
}

const KINDS = RANGES.map(([kind, cidrs]) => [kind, cidrList(cidrs)] as const);

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one in a way that
 * routes to it: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
 * NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
 */
export function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const words = expandIpv6(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (zeros(0, 5) && words[5] === 0xffff) return v4(words[6]!, words[7]!);
  if (zeros(0, 6) && (words[6] !== 0 || words[7]! > 1)) return v4(words[6]!, words[7]!); // not :: or ::1
  if (words[0] === 0x64 && words[1] === 0xff9b && zeros(2, 6)) return v4(words[6]!, words[7]!);
  if (words[0] === 0x2002) return v4(words[1]!, words[2]!);
  return undefined;
}

function expandIpv6(address: string): number[] {
  let text = address.replace(/%.*$/, ''); // zone id
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/** The special kind of an IP address, or undefined for a public unicast address. */
export function addressKind(address: string): RefusedKind | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const version = isIP(bare);
  if (version === 0) throw new CidrError(`"${address}" is not an IP address`);
  const embedded = embeddedIpv4(bare);
  if (embedded !== undefined) return addressKind(embedded);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  return KINDS.find(([, list]) => list.check(bare, family))?.[0];
}

export type AddressVerdict = { allowed: true } | { allowed: false; kind: RefusedKind; listable: boolean };

/** May a request connect to `address`, given the operator's OUTBOUND_ALLOW list? */
export function checkAddress(address: string, allow: BlockList): AddressVerdict {
  const kind = addressKind(address);
  if (kind === undefined) return { allowed: true };
  const listable = ALLOWABLE.has(kind);
  if (listable) {
    const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const asV4 = embeddedIpv4(bare);
    const target = asV4 ?? bare;
    if (allow.check(target, isIP(target) === 4 ? 'ipv4' : 'ipv6')) return { allowed: true };
  }
  return { allowed: false, kind, listable };
}
