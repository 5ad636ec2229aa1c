import { deepEqual, ok } from "node:assert/strict";
import { handle } from "./fake_backend.ts";
import { fixedRate } from "./_fixed_rate.ts";

Deno.test("a fixed-rate run sends every request and times each from when it was due", async () => {
  await using backend = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  const url = `http://127.0.0.1:${backend.addr.port}/v1/chat/completions`;
  const result = await fixedRate(url, { rate: 400, seconds: 0.05, answerDelayMs: 5 });
  deepEqual([result.requests, result.errors, result.latenciesMs.length], [20, 0, 20]);
  // The backend holds every answer back 5 ms, so none can come sooner.
  ok(result.latenciesMs[0]! >= 5, `the fastest answer took ${result.latenciesMs[0]} ms`);
});

Deno.test("a fixed-rate run counts answers that are not 200 as errors", async () => {
  await using backend = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("busy", { status: 503 }),
  );
  const url = `http://127.0.0.1:${backend.addr.port}/v1/chat/completions`;
  const result = await fixedRate(url, { rate: 200, seconds: 0.05, answerDelayMs: 0 });
  deepEqual([result.requests, result.errors], [10, 10]);
});
