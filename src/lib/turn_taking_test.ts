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
      await turnTaking.begin(() => {
        began.push(name);
        time += costMs;
      });
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

Deno.test("a request alone begins at once and sets no timer", async () => {
  const loop = fakeLoop();
  await loop.arrive("a", 0.4);
  assert.deepEqual(loop.began, ["a"]);
  assert.equal(loop.turnsPending(), 0, "no turn is asked for");
  loop.spend(50);
  await loop.arrive("b", 0.4);
  assert.deepEqual(loop.began, ["a", "b"]);
  assert.equal(loop.turnsPending(), 0);
  assert.equal(loop.counts.waited, 0);
});

Deno.test("a second request within the budget marks the turn; its end ends the turn", async () => {
  const loop = fakeLoop(1);
  await loop.arrive("a", 0.4);
  await loop.arrive("b", 0.4);
  assert.deepEqual(loop.began, ["a", "b"]);
  assert.equal(loop.turnsPending(), 1, "the turn's end is marked");
  await loop.nextTurn();
  assert.equal(loop.turnsPending(), 0, "nothing waits, so no turn is asked for");
  await loop.arrive("c", 0.1);
  assert.equal(loop.turnsPending(), 0, "c is alone in a turn of its own");
  assert.equal(loop.counts.waited, 0);
});

Deno.test("a request after an unmarked turn's budget begins a turn of its own", async () => {
  const loop = fakeLoop(1);
  await loop.arrive("a", 0.4);
  loop.spend(3); // other work, no request's start
  const arrivals = ["b", "c", "d", "e"].map((name) => loop.arrive(name, 0.4));
  await Promise.resolve();
  assert.deepEqual(loop.began, ["a", "b", "c", "d"], "b's turn has its own budget");
  assert.equal(loop.turnTaking.waiting, 1);
  await loop.nextTurn();
  await Promise.all(arrivals);
  assert.deepEqual(loop.began, ["a", "b", "c", "d", "e"]);
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

Deno.test("a start that throws fails its own request only; those behind it still begin", async () => {
  const loop = fakeLoop(1);
  const first = loop.arrive("a", 1);
  const failing = loop.turnTaking.begin(() => {
    throw new Error("bad start");
  });
  const after = loop.arrive("b");
  assert.ok(failing instanceof Promise, "it waits, as a start after the budget does");
  await loop.nextTurn();
  await assert.rejects(failing, /bad start/);
  await Promise.all([first, after]);
  assert.deepEqual(loop.began, ["a", "b"]);
  assert.throws(() =>
    fakeLoop().turnTaking.begin(() => {
      throw new Error("at once");
    }), /at once/);
});

Deno.test("a start learns when its request came if it waited, and nothing if it began at once", async () => {
  const loop = fakeLoop(1);
  const arrivals: (number | undefined)[] = [];
  const note = (arrived: number | undefined) => {
    arrivals.push(arrived);
    loop.spend(0.6);
  };
  loop.turnTaking.begin(note);
  loop.turnTaking.begin(note);
  loop.spend(0.3);
  const waited = loop.turnTaking.begin(note);
  loop.spend(2);
  await loop.nextTurn();
  await waited;
  assert.deepEqual(arrivals, [undefined, undefined, 1.5]);
});

Deno.test("a start that returns a rejected promise leaves turn-taking as it was", async () => {
  const loop = fakeLoop(1);
  const rejected = loop.turnTaking.begin(() => Promise.reject(new Error("no")));
  await assert.rejects(Promise.resolve(rejected), /no/);
  await loop.arrive("a", 0.2);
  assert.deepEqual(loop.began, ["a"]);
  assert.equal(loop.counts.waited, 0);
});
