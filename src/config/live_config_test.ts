import assert from "node:assert/strict";
import { AuditLog } from "../admin/audit.ts";
import { AuditStore, ConfigVersionStore } from "../store/mod.ts";
import { LiveConfig, type StoredConfig } from "./live_config.ts";

const FILE = {
  services: { chat: { instances: [{ name: "m", "base-url": "http://127.0.0.1:9" }] } },
};

/** A live config over `kv` that follows no watch: it moves only when told. */
function openLive(kv: Deno.Kv, applied?: (version: number) => Promise<void>) {
  const audits = new AuditStore(kv);
  return LiveConfig.open(new ConfigVersionStore<StoredConfig>(kv, audits), FILE, {
    apply: () => {},
    audit: new AuditLog(audits),
    log: () => {},
    ...(applied ? { applied } : {}),
  });
}

Deno.test("a change answers once `applied` has run: another worker has the version by then", async () => {
  using kv = await Deno.openKv(":memory:");
  const other = await openLive(kv);
  const seen: number[] = [];
  const here = await openLive(kv, async (version) => {
    seen.push(version);
    await other.catchUp(version);
  });
  const result = await here.change("any", { by: "test", action: "weighed" }, (model) => ({
    model: { ...model, "load-balance": { type: "random" } },
    target: "model",
  }));
  assert.equal(result.kind, "changed");
  assert.deepEqual(seen, [2]);
  assert.equal(other.version, 2);
  assert.deepEqual(other.model["load-balance"], { type: "random" });
});
