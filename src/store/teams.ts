/**
 * Teams of client keys created through the admin API, in Deno KV, next to the teams of the
 * config file; a change takes effect in every gateway sharing the store.
 * @module
 */
import type { z } from "zod";
import type { TeamSchema } from "../config/schema.ts";
import type { AuditStore } from "./audit.ts";
import { TEAMS } from "./keys.ts";
import { StoredRecords } from "./stored_records.ts";

/** A team as stored: its settings as written, and who created it when. */
export type StoredTeam = z.input<typeof TeamSchema> & {
  readonly id: string;
  /** ISO time it was created, and by which admin. */
  readonly created: string;
  readonly by: string;
};

/** Reads and writes the stored teams. */
export class TeamStore extends StoredRecords<StoredTeam> {
  /** `audit` writes the entry of each change in the commit that makes it. */
  constructor(kv: Deno.Kv, audit: AuditStore) {
    super(kv, audit, TEAMS, "team");
  }
}
