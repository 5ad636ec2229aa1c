/**
 * Every Deno KV operation of the gateway: config versions, the audit trail, API keys, teams,
 * limiter snapshots and the counters of shared limits. The rest of the gateway decides what to
 * keep; only these modules know how
 * it lies in the store. Each store is built on a `Deno.Kv` handed in, never opened here.
 * @module
 */
export { ApiKeyStore, type StoredApiKey } from "./api_keys.ts";
export { type AuditEntry, AuditStore } from "./audit.ts";
export {
  type CommitResult,
  ConfigVersionStore,
  type StoredVersion,
  type VersionInfo,
} from "./config_versions.ts";
export { type StoredTeam, TeamStore } from "./teams.ts";
export { type CounterStore, KvCounterStore } from "./shared_counters.ts";
export { MAX_COMMIT_BYTES, MAX_VALUE_BYTES, StoreLimitError } from "./size.ts";
export {
  LimiterSnapshotStore,
  SNAPSHOT_CHUNK_CHARS,
  type SnapshotChunk,
} from "./limiter_snapshots.ts";
