/**
 * Which base URLs the admin API accepts for instances added at runtime. Anyone holding an admin
 * key can make the gateway send requests wherever an instance points, so an instance must not
 * point at a cloud metadata service (which hands out the host's credentials), at a link-local,
 * unspecified, multicast or broadcast address, or, when `admin.allow-private` is false, at
 * loopback and private addresses.
 *
 * Only what the URL itself says is checked. An address is matched as written (after the WHATWG
 * URL parser has normalised it: `http://2852039166/` is `169.254.169.254`, and IPv4-mapped IPv6
 * such as `[::ffff:a9fe:a9fe]` is the IPv4 address it maps). A host name is matched against a
 * short list of metadata service names and, with private addresses refused, against `localhost`;
 * it is never resolved here (no DNS lookup happens). Resolution happens at request time, so a
 * name whose DNS record points at a refused address passes this check.
 * @module
 */
import { CidrSet, formatIp, parseIp } from "../net/cidr.ts";

/** Options for {@linkcode instanceUrlProblem}. */
export interface UrlPolicy {
  /** Whether loopback and private ranges are allowed. @default true */
  readonly allowPrivate?: boolean;
}

/**
 * Why an instance's base URL given over the admin API is refused, as a sentence; undefined when
 * it is fine. See the module documentation for what is refused and what is not checked.
 */
export function instanceUrlProblem(url: string, policy: UrlPolicy = {}): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `Only http and https URLs can be instances, not "${parsed.protocol}"`;
  }
  if (parsed.username !== "" || parsed.password !== "") {
    // Quote the URL without them: the message may be logged or shown.
    parsed.username = "";
    parsed.password = "";
    return `"${parsed.href}" has a user name or password in it (left out here); credentials ` +
      `belong in the instance's headers or api-key, not in its URL`;
  }
  const allowPrivate = policy.allowPrivate ?? true;
  const host = parsed.hostname;
  const ip = parseIp(host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);
  if (ip === undefined) {
    const name = host.toLowerCase().replace(/\.+$/, "");
    if (METADATA_NAMES.has(name)) {
      return `"${url}" names ${name}, the host name of a cloud metadata service; ` +
        `instances cannot point there`;
    }
    if (!allowPrivate && (name === "localhost" || name.endsWith(".localhost"))) {
      return `"${url}" names ${name}, a loopback host name, ` +
        `refused because admin.allow-private is false`;
    }
    return undefined;
  }
  const address = formatIp(ip);
  for (const rule of ALWAYS_REFUSED) {
    if (rule.set.contains(ip)) {
      return `"${url}" points at ${address}, ${rule.what}; instances cannot point there`;
    }
  }
  if (allowPrivate) return undefined;
  for (const rule of PRIVATE) {
    if (rule.set.contains(ip)) {
      return `"${url}" points at ${address}, which is ${rule.what} (${rule.range}), ` +
        `refused because admin.allow-private is false`;
    }
  }
  return undefined;
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

/** Host names of cloud metadata services, lowercase and without a trailing dot. */
const METADATA_NAMES: ReadonlySet<string> = new Set([
  // Google Cloud.
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  // AWS EC2.
  "instance-data",
  "instance-data.ec2.internal",
]);
