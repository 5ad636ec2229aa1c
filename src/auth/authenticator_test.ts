import assert from "node:assert/strict";
import { AuthSchema } from "../config/schema.ts";
import { Authenticator, type ClientIdentity } from "./authenticator.ts";

const KEY = "sk-capped-000000000000000";

async function identityOf(authenticator: Authenticator): Promise<ClientIdentity> {
  const result = await authenticator.authenticate(
    new Headers({ authorization: `Bearer ${KEY}` }),
    "127.0.0.1",
  );
  assert.ok(result.ok);
  return result.identity;
}

Deno.test("a key's requests in flight still count after the keys are rebuilt", async () => {
  const authenticator = new Authenticator(AuthSchema.parse({
    enabled: true,
    keys: [{ id: "capped", key: KEY, "max-concurrency": 1 }],
  }));
  const before = await identityOf(authenticator);
  const claim = before.concurrency!.claim();
  authenticator.useStored([], []);
  const after = await identityOf(authenticator);
  assert.notEqual(after, before, "a new identity");
  assert.equal(after.concurrency!.hasRoom(), false);
  claim[Symbol.dispose]();
  assert.equal(after.concurrency!.hasRoom(), true);
});

Deno.test("a key without a cap, in a team without one, has no concurrency to count", async () => {
  const authenticator = new Authenticator(AuthSchema.parse({
    enabled: true,
    teams: [{ id: "crew" }],
    keys: [{ id: "free", key: KEY, team: "crew" }],
  }));
  assert.equal((await identityOf(authenticator)).concurrency, undefined);
});

Deno.test("a team's cap is one count for all its keys", async () => {
  const other = "sk-other-0000000000000000";
  const authenticator = new Authenticator(AuthSchema.parse({
    enabled: true,
    teams: [{ id: "crew", "max-concurrency": 1 }],
    keys: [{ id: "one", key: KEY, team: "crew" }, { id: "two", key: other, team: "crew" }],
  }));
  const one = await identityOf(authenticator);
  const two = await authenticator.authenticate(
    new Headers({ authorization: `Bearer ${other}` }),
    "127.0.0.1",
  );
  assert.ok(two.ok);
  using _claim = one.concurrency!.claim();
  assert.equal(two.identity.concurrency!.hasRoom(), false);
});

Deno.test("a key's team is the one it is in now: of the config, of the store, after a move", () => {
  const authenticator = new Authenticator(AuthSchema.parse({
    enabled: true,
    teams: [{ id: "crew" }, { id: "lab" }],
    keys: [{ id: "written", key: KEY, team: "crew" }, {
      id: "alone",
      key: "sk-alone-0000000000000",
    }],
  }));
  const stored = {
    id: "made",
    digest: "0".repeat(64),
    team: "crew",
    enabled: true,
    created: "2026-12-05T00:00:00Z",
    by: "admin",
  };
  authenticator.useStored([stored], []);
  assert.equal(authenticator.teamOfKey("written"), "crew");
  assert.equal(authenticator.teamOfKey("made"), "crew");
  assert.equal(authenticator.teamOfKey("alone"), undefined);
  assert.equal(authenticator.teamOfKey("unknown"), undefined);
  authenticator.useStored([{ ...stored, team: "lab" }], []);
  assert.equal(authenticator.teamOfKey("made"), "lab");
  authenticator.useStored([], []);
  assert.equal(authenticator.teamOfKey("made"), undefined, "a key taken out has no team");
});
