import assert from "node:assert/strict";
import { TurnTaking } from "./turn_taking.ts";

/** Turn-taking on a clock and turns the test moves by hand; `began` lists requests as they begin. */
function fakeLoop(budgetMs = 1, turnMs = 5) {
  let time = 0;
  let turns: (() => void)[] = [];
  const began: string[] = [];
  const counts = { waited: 0 };
  const turnTaking = new TurnTaking({
    budgetMs,
    turnMs,
    now: () => time,
    nextTurn: (callback) => turns.push(callback),
    onWait: () => counts.waited++,
  });
  return {
    turnTaking,
    counts,
    began,
    /** Turns asked for and not yet run. */
    turnsPending: () => turns.length,
    /** Moves the clock on by `ms`, as a request's start or other work would. */
    spend(ms: number) {
      time += ms;
    },
    /**
     * A request named `name` arrives; once it may begin, it does, taking `costMs` of the clock.
     * Resolves when it has begun.
     */
    async arrive(name: string, costMs = 0): Promise<void> {
      const wait = turnTaking.take();
      if (wait !== undefined) await wait;
      began.push(name);
      time += costMs;
    },
    /** Runs the turns asked for so far, then lets the microtasks they set off run. */
    async nextTurn() {
      const due = turns;
      turns = [];
      for (const callback of due) callback();
      for (let i = 0; i < 20; i++) await Promise.resolve();
    },
  };
}

Deno.test("a request alone begins at once; its turn ends with no one waiting", async () => {
  const loop = fakeLoop();
  await loop.arrive("a", 0.4);
  assert.deepEqual(loop.began, ["a"]);
  assert.equal(loop.turnsPending(), 1, "the turn's end is marked");
  await loop.nextTurn();
  assert.equal(loop.turnsPending(), 0, "nothing waits, so no turn is asked for");
  loop.spend(50);
  await loop.arrive("b");
  assert.deepEqual(loop.began, ["a", "b"]);
  assert.equal(loop.counts.waited, 0);
});

Deno.test("within a turn, requests begin until the budget is spent; the rest wait in order", async () => {
  const loop = fakeLoop(1);
  const arrivals = ["a", "b", "c", "d", "e"].map((name) => loop.arrive(name, 0.4));
  await Promise.resolve();
  assert.deepEqual(loop.began, ["a", "b", "c"], "0, 0.4 and 0.8 ms into the turn");
  assert.equal(loop.turnTaking.waiting, 2);
  assert.equal(loop.counts.waited, 2);

  await loop.nextTurn();
  assert.deepEqual(loop.began, ["a", "b", "c", "d", "e"]);
  await Promise.all(arrivals);
  assert.equal(loop.turnTaking.waiting, 0);
});

Deno.test("each later turn lets waiting requests begin one at a time, for up to the budget", async () => {
  const loop = fakeLoop(1);
  const names = Array.from({ length: 10 }, (_, i) => `r${i}`);
  const arrivals = names.map((name) => loop.arrive(name, 0.3));
  await Promise.resolve();
  assert.deepEqual(loop.began, ["r0", "r1", "r2", "r3"], "0, 0.3, 0.6 and 0.9 ms");

  await loop.nextTurn();
  assert.deepEqual(loop.began.slice(4), ["r4", "r5", "r6", "r7"]);
  assert.equal(loop.turnsPending(), 1, "two still wait: another turn is asked for");

  await loop.nextTurn();
  assert.deepEqual(loop.began, names);
  await Promise.all(arrivals);

  await loop.nextTurn();
  assert.equal(loop.turnsPending(), 0, "the turn after the last has no one left and ends it");
});

Deno.test("a new request does not pass those waiting, even with budget left in the turn", async () => {
  const loop = fakeLoop(1);
  const first = [loop.arrive("a", 1), loop.arrive("b"), loop.arrive("c")];
  await Promise.resolve();
  assert.deepEqual(loop.began, ["a"]);

  // The next turn lets "b" begin, then "c"; one that arrives while "c" is still in line waits
  // behind it, though the turn has budget left.
  const turn = loop.nextTurn();
  assert.equal(loop.turnTaking.waiting, 1);
  const late = loop.arrive("late");
  await turn;
  await Promise.all([...first, late]);
  assert.deepEqual(loop.began, ["a", "b", "c", "late"]);
  assert.equal(loop.counts.waited, 3);
});

Deno.test("a turn that comes late, the loop busy, lets new requests begin for less", async () => {
  const loop = fakeLoop(1, 5);
  const names = Array.from({ length: 10 }, (_, i) => `r${i}`);
  const first = loop.arrive("first", 1);
  const arrivals = names.map((name) => loop.arrive(name, 0.1));
  await Promise.resolve();
  assert.deepEqual(loop.began, ["first"]);

  // The next turn comes 20 ms after the last began: a quarter of the budget, 0.25 ms.
  loop.spend(19);
  await loop.nextTurn();
  assert.deepEqual(loop.began.slice(1), ["r0", "r1", "r2"], "0, 0.1 and 0.2 ms into the turn");

  // The one after comes at once: the whole budget again.
  await loop.nextTurn();
  assert.deepEqual(loop.began.slice(1), names);
  await Promise.all([first, ...arrivals]);
});

Deno.test("a request whose start alone outlasts the budget still lets one more begin each turn", async () => {
  const loop = fakeLoop(1);
  const arrivals = ["a", "b", "c"].map((name) => loop.arrive(name, 5));
  await Promise.resolve();
  assert.deepEqual(loop.began, ["a"]);
  await loop.nextTurn();
  assert.deepEqual(loop.began, ["a", "b"]);
  await loop.nextTurn();
  assert.deepEqual(loop.began, ["a", "b", "c"]);
  await Promise.all(arrivals);
});

Deno.test("requests that come in separate turns, with the loop idle between, never wait", async () => {
  const loop = fakeLoop(1);
  for (let i = 0; i < 5; i++) {
    await loop.arrive(`r${i}`, 0.8);
    await loop.nextTurn();
    loop.spend(3);
  }
  assert.equal(loop.began.length, 5);
  assert.equal(loop.counts.waited, 0);
});
