/**
 * Memory is given back once no client request has been in flight for a few seconds: after
 * start-up, and after a load, counting a stream as in flight until its last byte reached the
 * client.
 */
import assert from "node:assert/strict";
import { manualSchedule } from "./fixtures/clock.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { deferred, eventually } from "./fixtures/gate.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";

const MiB = 1024 * 1024;

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
  memory.rss = 250 * MiB;
  timers.fireAll();
  timers.fireAll();
  assert.equal(memory.releases, 0, "nothing is released while a stream is in flight");

  // Its last byte reaches the client; then one reading sees it finished, the next one quiet.
  streamEnds.resolve();
  while (!(await reader.read()).done) { /* the rest of the stream */ }
  await eventually(() => Promise.resolve(assert.equal(gateway.gateway.telemetry.active, 0)), 2000);
  timers.fireAll();
  assert.equal(memory.releases, 0, "not quiet for a whole interval yet");
  timers.fireAll();
  assert.equal(memory.releases, 1);
});
