import assert from "node:assert/strict";
import { ClientConcurrency, ConcurrencyCap, type Wakeable } from "./client_concurrency.ts";

function counted(): Wakeable & { wakes: number } {
  return {
    wakes: 0,
    wake() {
      this.wakes++;
    },
  };
}

Deno.test("a client has room while every one of its caps has", () => {
  const key = new ConcurrencyCap(2);
  const team = new ConcurrencyCap(1);
  const alone = new ClientConcurrency([key]);
  const inTeam = new ClientConcurrency([key, team]);
  using _first = inTeam.claim();
  assert.equal(inTeam.hasRoom(), false, "the team's cap is reached");
  assert.equal(alone.hasRoom(), true, "the key's cap is not");
  using _second = alone.claim();
  assert.equal(alone.hasRoom(), false);
  assert.deepEqual([key.active, team.active], [2, 1]);
});

Deno.test("a claim is given back once, however often it is disposed of", () => {
  const cap = new ConcurrencyCap(1);
  const client = new ClientConcurrency([cap]);
  const claim = client.claim();
  claim[Symbol.dispose]();
  claim[Symbol.dispose]();
  assert.equal(cap.active, 0);
  assert.equal(client.hasRoom(), true);
});

Deno.test("room coming back wakes the queues the client's requests wait in, and only those", () => {
  const cap = new ConcurrencyCap(1);
  const client = new ClientConcurrency([cap]);
  const waitedIn = counted();
  const left = counted();
  const first = client.claim();
  {
    using _waiting = client.waitIn(left);
  }
  using _waiting = client.waitIn(waitedIn);
  first[Symbol.dispose]();
  assert.deepEqual([waitedIn.wakes, left.wakes], [1, 0]);
});

Deno.test("no wake-up while the client stays at its cap after a lowered limit", () => {
  const cap = new ConcurrencyCap(2);
  const client = new ClientConcurrency([cap]);
  const queue = counted();
  const first = client.claim();
  using _second = client.claim();
  using _waiting = client.waitIn(queue);
  cap.limit = 1;
  first[Symbol.dispose]();
  assert.equal(queue.wakes, 0);
  assert.equal(client.hasRoom(), false);
});
