/**
 * Client API keys created through the admin API, in Deno KV: only the key's digest is stored,
 * and the key itself is shown once, when it is created. A new or revoked key takes effect in
 * every gateway sharing the store (see `stored_records.ts`).
 * @module
 */
import type { BudgetLimits } from "../budget/budgets.ts";
import type { AuditStore } from "./audit.ts";
import { API_KEYS } from "./keys.ts";
import { StoredRecords } from "./stored_records.ts";
import type { PriorityClass } from "../queue/priority.ts";

/** A key as stored: its settings as written, and the digest instead of the key. */
export interface StoredApiKey {
  readonly id: string;
  /** Hex SHA-256 of the key. */
  readonly digest: string;
  readonly models?: readonly string[];
  readonly "rate-limit"?: Readonly<Record<string, unknown>>;
  /** Its daily and monthly budget, as written. */
  readonly budget?: BudgetLimits;
  /** The team it belongs to, one of `auth.teams`. */
  readonly team?: string;
  /** Its requests in flight at once across the gateway; unlimited when absent. */
  readonly "max-concurrency"?: number;
  /** Class in a model's queue; its team's, else normal, when absent. */
  readonly priority?: PriorityClass;
  /** Whether `x-priority` may choose any class. */
  readonly "priority-header"?: boolean;
  readonly expires?: string;
  /** Addresses or CIDR ranges it may be used from; anywhere when absent. */
  readonly "allowed-ips"?: readonly string[];
  readonly enabled: boolean;
  /** ISO time it was created, and by which admin. */
  readonly created: string;
  readonly by: string;
}

/** Reads and writes the stored keys. */
export class ApiKeyStore extends StoredRecords<StoredApiKey> {
  /** `audit` writes the entry of each change in the commit that makes it. */
  constructor(kv: Deno.Kv, audit: AuditStore) {
    super(kv, audit, API_KEYS, "API key");
  }
}
