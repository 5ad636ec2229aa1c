import assert from "node:assert/strict";
import { GatewayError, OPENAI_ERRORS } from "../errors.ts";
import { keptAlive } from "./kept_alive.ts";
import { QueueVisit } from "./queue_visit.ts";
import { manualTimers } from "./_manual_timers.ts";

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => [resolve, reject] = [yes, no]);
  return { promise, resolve, reject };
}

const sse = (text: string) =>
  new Response(text, { headers: { "content-type": "text/event-stream" } });

Deno.test("an answer before the threshold is the answer itself, with the queue headers", async () => {
  const timers = manualTimers();
  const visit = new QueueVisit();
  const answer = deferred<Response>();
  const response = keptAlive(answer.promise, visit, {
    every: 100,
    errors: OPENAI_ERRORS,
    timer: timers.timer,
  });
  let position = 3;
  visit.entered(3, () => position);
  assert.equal(timers.pending, 1);
  visit.left(42.4);
  position = 0;
  answer.resolve(sse("data: x\n\n"));
  const got = await response;
  assert.equal(await got.text(), "data: x\n\n");
  assert.equal(got.headers.get("x-queue-position"), "3");
  assert.equal(got.headers.get("x-queue-wait-ms"), "42");
  assert.equal(timers.pending, 0, "the head timer is cancelled");
});

Deno.test("past the threshold the head goes out, comments follow while queued, then the stream", async () => {
  const timers = manualTimers();
  const visit = new QueueVisit();
  const answer = deferred<Response>();
  const response = keptAlive(answer.promise, visit, {
    every: 100,
    errors: OPENAI_ERRORS,
    timer: timers.timer,
  });
  let position: number | undefined = 2;
  visit.entered(2, () => position);
  timers.fireAll();
  const early = await response;
  assert.equal(early.headers.get("x-queue-position"), "2");
  position = 1;
  timers.fireAll();
  position = undefined;
  timers.fireAll();
  answer.resolve(sse("data: x\n\ndata: [DONE]\n\n"));
  assert.equal(
    await early.text(),
    ": queued position=2\n\n: queued position=1\n\ndata: x\n\ndata: [DONE]\n\n",
  );
  assert.equal(timers.pending, 0);
});

Deno.test("past the threshold a refusal becomes an error event", async () => {
  const timers = manualTimers();
  const visit = new QueueVisit();
  const answer = deferred<Response>();
  const response = keptAlive(answer.promise, visit, {
    every: 100,
    errors: OPENAI_ERRORS,
    timer: timers.timer,
  });
  visit.entered(1, () => 1);
  timers.fireAll();
  const early = await response;
  answer.reject(new GatewayError(503, "queue_timeout", "No instance became free"));
  const text = await early.text();
  assert.match(text, /^: queued position=1\n\n\n\nevent: error\ndata: /);
  assert.equal(JSON.parse(text.split("data: ")[1]!).error.code, "queue_timeout");
});

Deno.test("a request that never waits gets its answer or its error as they are", async () => {
  const timers = manualTimers();
  const ok = await keptAlive(Promise.resolve(sse("data: y\n\n")), new QueueVisit(), {
    every: 100,
    errors: OPENAI_ERRORS,
    timer: timers.timer,
  });
  assert.equal(ok.headers.get("x-queue-position"), null);
  await ok.body?.cancel();
  const refusal = new GatewayError(429, "rate_limit_exceeded", "Slow down");
  await assert.rejects(
    keptAlive(Promise.reject(refusal), new QueueVisit(), {
      every: 100,
      errors: OPENAI_ERRORS,
      timer: timers.timer,
    }),
    (error) => error === refusal,
  );
  assert.equal(timers.pending, 0);
});
