/**
 * Every Deno KV key prefix the gateway writes, in one place, so no two features collide and a
 * store shared by several gateways stays readable. These are the layout on disk: a store
 * written by an earlier version must still load, so a prefix is never renamed.
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
/**
 * `[...CONFIG_WRITER, n]`: which writer is storing version n across several commits, for a
 * version too large for one; deleted by the commit that makes the version live.
 */
export const CONFIG_WRITER = [ROOT, "config", "writer"] as const;
/** `[...LIMITERS, owner, chunk]`: one gateway's saved rate limiter state. */
export const LIMITERS = [ROOT, "limiters"] as const;
/** `[...AUDIT, at, sequence, nonce]`: one admin write, who made it and what it changed. */
export const AUDIT = [ROOT, "audit"] as const;
/** `[...API_KEYS, id]`: a client API key created through the admin API, stored hashed. */
export const API_KEYS = [ROOT, "api-keys"] as const;
/** `[...TEAMS, id]`: a team of client keys created through the admin API. */
export const TEAMS = [ROOT, "teams"] as const;
/**
 * Bumped with every change to `API_KEYS` or `TEAMS`, so every gateway sharing the store reloads
 * them.
 */
export const API_KEYS_CHANGED = [ROOT, "api-keys-changed"] as const;
/** `[...SHARED_COUNTS, name]`: a counter every gateway sharing the store adds its limits' use to. */
export const SHARED_COUNTS = [ROOT, "shared-counts"] as const;
