import assert from "node:assert/strict";
import type { FromWorker, ToWorker } from "./messages.ts";
import { type WorkerHandle, WorkerPool } from "./pool.ts";

/** A worker the test speaks for: what the pool told it, and a way to answer. */
class FakeWorker implements WorkerHandle {
  readonly worker: number;
  readonly received: ToWorker[] = [];
  terminated = false;
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;

  constructor(worker: number) {
    this.worker = worker;
  }

  postMessage(message: ToWorker): void {
    this.received.push(message);
  }

  terminate(): void {
    this.terminated = true;
  }

  say(message: FromWorker): void {
    this.onmessage?.(new MessageEvent("message", { data: message }));
  }

  last<K extends ToWorker["kind"]>(kind: K): Extract<ToWorker, { kind: K }> | undefined {
    return this.received.findLast((message) => message.kind === kind) as
      | Extract<ToWorker, { kind: K }>
      | undefined;
  }
}

/** A pool of fake workers, its timers fired by hand. */
function pool(workers = 2) {
  const spawned: FakeWorker[] = [];
  const timers: { ms: number; run: () => void; cancelled: boolean }[] = [];
  const logged: string[] = [];
  let now = 0;
  const workerPool = new WorkerPool({
    workers,
    port: 0,
    spawn: (worker) => {
      const fake = new FakeWorker(worker);
      spawned.push(fake);
      return fake;
    },
    writeLog: () => {},
    log: (level, message) => logged.push(`${level}: ${message}`),
    now: () => now,
    after: (ms, run) => {
      const timer = { ms, run, cancelled: false };
      timers.push(timer);
      return { cancel: () => timer.cancelled = true };
    },
  });
  const running = (worker: number) => spawned.findLast((fake) => fake.worker === worker)!;
  return {
    workerPool,
    spawned,
    timers,
    logged,
    running,
    advance: (ms: number) => now += ms,
  };
}

Deno.test("the first worker starts alone; the others get the port it took", async () => {
  const { workerPool, spawned, running } = pool(3);
  const started = workerPool.start();
  assert.equal(spawned.length, 1);
  assert.deepEqual(spawned[0]!.received[0], { kind: "start", worker: 1, workers: 3, port: 0 });
  running(1).say({ kind: "listening", port: 8123 });
  assert.equal(spawned.length, 3);
  assert.deepEqual(running(3).last("start"), { kind: "start", worker: 3, workers: 3, port: 8123 });
  running(2).say({ kind: "listening", port: 8123 });
  running(3).say({ kind: "listening", port: 8123 });
  assert.deepEqual(await started, { kind: "listening", port: 8123 });
});

Deno.test("a worker that cannot start fails the start with its code, and the others stop", async () => {
  const { workerPool, running } = pool(3);
  const started = workerPool.start();
  running(1).say({ kind: "listening", port: 8123 });
  running(2).say({ kind: "exit", code: 1 });
  assert.deepEqual(await started, { kind: "failed", code: 1 });
  assert.equal(running(1).last("stop")?.kind, "stop");
  const stopped = workerPool.stop("SIGTERM");
  running(1).say({ kind: "exit", code: 0 });
  running(3).say({ kind: "exit", code: 0 });
  await stopped;
});

Deno.test("a worker that dies starts again, later each time it dies again soon", async () => {
  const { workerPool, spawned, timers, logged, running, advance } = pool();
  const started = workerPool.start();
  running(1).say({ kind: "listening", port: 8123 });
  running(2).say({ kind: "listening", port: 8123 });
  await started;
  const delays: number[] = [];
  for (let death = 0; death < 3; death++) {
    const dead = running(2);
    dead.say({ kind: "exit", code: 1 });
    assert.ok(dead.terminated);
    delays.push(timers.at(-1)!.ms);
    timers.at(-1)!.run();
    running(2).say({ kind: "listening", port: 8123 });
  }
  assert.deepEqual(delays, [500, 1000, 2000]);
  assert.match(logged.at(-1)!, /Worker 2 exited with code 1; it starts again in 2000 ms/);
  // After a steady run, the delay is short again; an uncaught error counts as a death too.
  advance(60_000);
  running(2).onerror?.(new ErrorEvent("error", { message: "boom", cancelable: true }));
  assert.equal(timers.at(-1)!.ms, 500);
  assert.equal(spawned.filter((fake) => fake.worker === 2).length, 4);
});

Deno.test("a question goes to every other running worker; the asker gets their answers", async () => {
  const { workerPool, running } = pool(3);
  const started = workerPool.start();
  for (const worker of [1, 2, 3]) running(worker).say({ kind: "listening", port: 8123 });
  await started;
  running(1).say({ kind: "ask", id: 7, question: { kind: "metrics" } });
  assert.equal(running(1).last("question"), undefined);
  const asked = running(2).last("question")!;
  assert.deepEqual(asked.question, { kind: "metrics" });
  running(2).say({ kind: "answer", id: asked.id, answer: { worker: 2, text: "two" } });
  assert.equal(running(1).last("answers"), undefined, "worker 3 has not answered yet");
  // Worker 3 dies instead of answering: it is not waited for.
  running(3).say({ kind: "exit", code: 1 });
  assert.deepEqual(running(1).last("answers"), {
    kind: "answers",
    id: 7,
    answers: [{ worker: 2, text: "two" }],
  });
});

Deno.test("stop passes the signal to every worker and settles once all have exited", async () => {
  const { workerPool, timers, running } = pool();
  const started = workerPool.start();
  running(1).say({ kind: "listening", port: 8123 });
  running(2).say({ kind: "listening", port: 8123 });
  await started;
  running(2).say({ kind: "exit", code: 1 });
  const restart = timers.at(-1)!;
  let stopped = false;
  const stopping = workerPool.stop("SIGTERM").then(() => stopped = true);
  assert.ok(restart.cancelled, "a worker waiting to start again is not started");
  assert.deepEqual(running(1).last("stop"), { kind: "stop", signal: "SIGTERM" });
  await Promise.resolve();
  assert.equal(stopped, false);
  running(1).say({ kind: "exit", code: 0 });
  await stopping;
});

Deno.test("a scrape waits 5 s for the others' metrics, an action 30 s", async () => {
  const { workerPool, timers, running } = pool();
  const started = workerPool.start();
  running(1).say({ kind: "listening", port: 8123 });
  running(2).say({ kind: "listening", port: 8123 });
  await started;
  running(1).say({ kind: "ask", id: 1, question: { kind: "metrics" } });
  assert.equal(timers.at(-1)!.ms, 5_000);
  timers.at(-1)!.run();
  assert.deepEqual(running(1).last("answers"), { kind: "answers", id: 1, answers: [] });
  running(1).say({ kind: "ask", id: 2, question: { kind: "config", version: 3 } });
  assert.equal(timers.at(-1)!.ms, 30_000);
});
