import assert from "node:assert/strict";
import { AdaptiveConcurrency } from "./adaptive_concurrency.ts";

const BOUNDS = { min: 1, max: 50, initial: 4 };

Deno.test("adaptive concurrency starts at its initial limit, within its bounds", () => {
  assert.equal(new AdaptiveConcurrency(BOUNDS).limit, 4);
  assert.equal(new AdaptiveConcurrency({ min: 6, max: 50, initial: 4 }).limit, 6);
  assert.equal(new AdaptiveConcurrency({ min: 1, max: 2, initial: 4 }).limit, 2);
});

Deno.test("adaptive concurrency grows by one per window of steady first-token times", () => {
  const limit = new AdaptiveConcurrency(BOUNDS);
  for (let i = 0; i < 4; i++) limit.firstToken(100, 4);
  assert.equal(limit.limit, 5);
  for (let i = 0; i < 5; i++) limit.firstToken(110, 5);
  assert.equal(limit.limit, 6);
});

Deno.test("adaptive concurrency grows on whole answers too, which carry no time to first token", () => {
  const limit = new AdaptiveConcurrency(BOUNDS);
  limit.firstToken(10, 4);
  // A whole answer's time includes its generation: it neither shrinks nor sets the minimum.
  for (let i = 0; i < 3; i++) limit.answered(4);
  assert.equal(limit.limit, 5);
  for (let i = 0; i < 5; i++) limit.answered(1);
  assert.equal(limit.limit, 5, "not while the limit is not used");
});

Deno.test("adaptive concurrency does not grow while the limit is not used", () => {
  const limit = new AdaptiveConcurrency(BOUNDS);
  for (let i = 0; i < 40; i++) limit.firstToken(100, 1);
  assert.equal(limit.limit, 4);
});

Deno.test("adaptive concurrency shrinks as time to first token rises above its minimum", () => {
  const limit = new AdaptiveConcurrency({ min: 1, max: 50, initial: 20 });
  limit.firstToken(100, 20);
  const before = limit.limit;
  limit.firstToken(400, 20);
  assert.ok(limit.limit < before, `${limit.limit} < ${before}`);
  for (let i = 0; i < 30; i++) limit.firstToken(400, 20);
  assert.equal(limit.limit, 1);
});

Deno.test("adaptive concurrency forgets an old minimum slowly, so a slower engine can grow again", () => {
  const limit = new AdaptiveConcurrency({ min: 1, max: 50, initial: 10 });
  limit.firstToken(10, 10);
  for (let i = 0; i < 600; i++) limit.firstToken(100, limit.limit);
  assert.ok(limit.limit > 10, `grew to ${limit.limit}`);
});

Deno.test("adaptive concurrency is cut multiplicatively on overload, once per window", () => {
  const limit = new AdaptiveConcurrency({ min: 1, max: 50, initial: 16 });
  const epoch = limit.epoch;
  limit.overloaded(epoch);
  assert.equal(limit.limit, 12);
  // Requests sent before the cut were answered by the engine the cut already accounts for.
  limit.overloaded(epoch);
  limit.overloaded(epoch);
  assert.equal(limit.limit, 12);
  limit.overloaded(limit.epoch);
  assert.equal(limit.limit, 9);
});

Deno.test("adaptive concurrency never leaves its bounds", () => {
  const limit = new AdaptiveConcurrency({ min: 2, max: 5, initial: 4 });
  for (let i = 0; i < 10; i++) limit.overloaded(limit.epoch);
  assert.equal(limit.limit, 2);
  for (let i = 0; i < 100; i++) limit.firstToken(50, limit.limit);
  assert.equal(limit.limit, 5);
  limit.configure({ min: 1, max: 3, initial: 4 });
  assert.equal(limit.limit, 3);
});

Deno.test("a long prompt's longer first token is not read as queueing", () => {
  const limit = new AdaptiveConcurrency({ min: 1, max: 64, initial: 8 });
  // Short prompts at 100 ms set the baseline.
  for (let i = 0; i < 8; i++) limit.firstToken(100, 8, 200);
  const settled = limit.limit;
  // A 4,096-token prompt takes 16 times as long to read in: the same per 256 tokens.
  for (let i = 0; i < 20; i++) limit.firstToken(1600, 8, 4096);
  assert.ok(limit.limit >= settled, `${limit.limit} < ${settled}`);
  // The same time for a short prompt is queueing: the limit shrinks.
  for (let i = 0; i < 20; i++) limit.firstToken(1600, 8, 200);
  assert.ok(limit.limit < settled, `${limit.limit} >= ${settled}`);
});
