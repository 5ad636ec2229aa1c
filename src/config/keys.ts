/**
 * Every Deno KV key prefix the gateway writes, in one place, so no two features collide and a
 * store shared by several gateways stays readable.
 * @module
 */

/** The root of everything the gateway keeps in KV. */
const ROOT = "switchyard";

/** The pointer to the live config version. */
export const CONFIG_HEAD = [ROOT, "config", "head"] as const;
/** `[...CONFIG_META, n]`: who wrote version n, when and why. */
export const CONFIG_META = [ROOT, "config", "meta"] as const;
/** `[...CONFIG_BODY, n, chunk]`: the text of version n, in chunks under KV's value limit. */
export const CONFIG_BODY = [ROOT, "config", "body"] as const;
/** `[...LIMITERS, owner, chunk]`: one gateway's saved rate limiter state. */
export const LIMITERS = [ROOT, "limiters"] as const;
