/**
 * Memory is given back once no request has been in flight for a few seconds: after start-up,
 * and after a load, counting a stream as in flight until its last byte reached the client.
 */
import assert from "node:assert/strict";
import { manualClock, manualSchedule } from "./fixtures/clock.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { deferred } from "./fixtures/gate.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";

const MiB = 1024 * 1024;
/** How long the gateway waits with no request in flight before it releases memory. */
const QUIET_MS = 5000;

Deno.test("memory is released once a stream has ended and the gateway has been quiet since", async () => {
  const streamEnds = deferred<void>();
  await using backend = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
        '10\r\ndata: {"a":1}\n\n\r\n',
    );
    await streamEnds.promise;
    await peer.write("e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
  });
  const clock = manualClock();
  const timers = manualSchedule();
  const memory = { rss: 80 * MiB, releases: 0 };
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${backend.url}
`,
    {
      now: clock.now,
      schedule: timers.schedule,
      memoryTrim: { rss: () => memory.rss, release: () => memory.releases++ },
    },
  );

  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [] }),
  });
  const reader = response.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /"a":1/);

  // The stream's first event is out and its response returned long ago: it is still in flight.
  clock.advance(2 * QUIET_MS);
  memory.rss = 250 * MiB;
  timers.fireAll();
  assert.equal(memory.releases, 0, "nothing is released while a stream is in flight");

  // Its last byte reaches the client: the wait for quiet starts.
  const quietWait = waitFor(timers, QUIET_MS);
  streamEnds.resolve();
  while (!(await reader.read()).done) { /* the rest of the stream */ }
  await quietWait;
  clock.advance(QUIET_MS - 1);
  timers.fireAll();
  assert.equal(memory.releases, 0, "not quiet long enough yet");
  await waitFor(timers, 1);
  clock.advance(1);
  timers.fireAll();
  assert.equal(memory.releases, 1);
});

/** Resolves once a callback `ms` from now is waiting on `timers`. */
async function waitFor(timers: ReturnType<typeof manualSchedule>, ms: number): Promise<void> {
  while (!timers.waiting().includes(ms)) await timers.nextScheduled();
}
