/**
 * Which addresses an instance added at run time may reach. Anyone holding an admin key can make
 * the gateway send requests wherever such an instance points, so it must not reach a cloud
 * metadata service (which hands out the host's credentials), a link-local, unspecified,
 * multicast or broadcast address, or, when `admin.allow-private` is false, a loopback or private
 * address. The admin API checks a URL's literal address with these rules, and the transport
 * checks the address a name resolves to before it connects.
 * @module
 */
import { CidrSet, formatIp, type IpAddress, parseIp } from "./cidr.ts";

/** What the rules allow besides public addresses. */
export interface AddressPolicy {
  /** Whether loopback and private ranges are allowed (`admin.allow-private`). */
  readonly allowPrivate: boolean;
}

/**
 * Why `address` is refused, starting with the address: `10.0.0.5, which is a private address
 * (10.0.0.0/8), refused because admin.allow-private is false`; undefined when it is allowed.
 */
export function addressRefusal(address: IpAddress, policy: AddressPolicy): string | undefined {
  const written = formatIp(address);
  for (const rule of ALWAYS_REFUSED) {
    if (rule.set.contains(address)) {
      return `${written}, ${rule.what}; instances cannot point there`;
    }
  }
  if (policy.allowPrivate) return undefined;
  for (const rule of PRIVATE) {
    if (rule.set.contains(address)) {
      return `${written}, which is ${rule.what} (${rule.range}), ` +
        `refused because admin.allow-private is false`;
    }
  }
  return undefined;
}

/**
 * Why the gateway may not connect to `address`, an IP address as a resolver gives it; undefined
 * when it may. Built once per policy, when the config is read.
 */
export type AddressCheck = (address: string) => string | undefined;

/** The {@linkcode AddressCheck} of `policy`; an address it cannot read is refused. */
export function addressCheck(policy: AddressPolicy): AddressCheck {
  return (text) => {
    const address = parseIp(text);
    return address === undefined
      ? `${text}, which is not an address the gateway can check`
      : addressRefusal(address, policy);
  };
}

/** A range of addresses and what an address in it is. */
interface AddressRule {
  /** The range as written here, e.g. `10.0.0.0/8`. */
  readonly range: string;
  /** The range, built once at module load. */
  readonly set: CidrSet;
  /** What an address in the range is, as a noun phrase: `a multicast address`. */
  readonly what: string;
}

function rules(entries: readonly (readonly [range: string, what: string])[]): AddressRule[] {
  return entries.map(([range, what]) => ({ range, set: new CidrSet([range]), what }));
}

/** Refused whatever the policy. Checked first: some lie inside the private ranges. */
const ALWAYS_REFUSED: readonly AddressRule[] = rules([
  ["169.254.0.0/16", "a link-local address used by cloud metadata services"],
  ["fe80::/10", "an IPv6 link-local address"],
  ["fd00:ec2::254", "the IPv6 address of the AWS instance metadata service"],
  ["100.100.100.200", "the address of the Alibaba Cloud metadata service"],
  ["192.0.0.192", "the address of an Oracle Cloud metadata service"],
  ["0.0.0.0/8", `a "this network" address, which reaches the gateway's own host`],
  ["::", "the unspecified address, which reaches the gateway's own host"],
  ["224.0.0.0/4", "a multicast address"],
  ["ff00::/8", "an IPv6 multicast address"],
  ["255.255.255.255", "the broadcast address"],
]);

/** Refused when `admin.allow-private` is false; GPU hosts usually live in these. */
const PRIVATE: readonly AddressRule[] = rules([
  ["127.0.0.0/8", "a loopback address"],
  ["::1", "the IPv6 loopback address"],
  ["10.0.0.0/8", "a private address"],
  ["172.16.0.0/12", "a private address"],
  ["192.168.0.0/16", "a private address"],
  ["100.64.0.0/10", "a shared (carrier-grade NAT) address"],
  ["fc00::/7", "an IPv6 unique local address"],
]);
