/**
 * Which base URLs the admin API accepts for instances added at runtime: http and https without
 * credentials, not pointing at an address the rules of `net/address_policy.ts` refuse.
 *
 * Only what the URL itself says is checked here. An address is matched as written (after the
 * WHATWG URL parser has normalised it: `http://2852039166/` is `169.254.169.254`, and IPv4-mapped
 * IPv6 such as `[::ffff:a9fe:a9fe]` is the IPv4 address it maps). A host name is matched against
 * a short list of metadata service names and, with private addresses refused, against
 * `localhost`; it is not resolved here. The transport checks the addresses a name resolves to
 * when it connects, so a name whose DNS record points at a refused address is refused then.
 * @module
 */
import { addressRefusal } from "../net/address_policy.ts";
import { parseIp } from "../net/cidr.ts";

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
  const refusal = addressRefusal(ip, { allowPrivate });
  return refusal === undefined ? undefined : `"${url}" points at ${refusal}`;
}

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
