/**
 * A streaming request that waits in the model's queue longer than `queue-keep-alive` gets its
 * SSE head at once and a comment line every so often while it waits; the backend's stream
 * follows, and what goes wrong after the head becomes an error event. A client that leaves
 * while queued gives its place up.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually, Gate, within } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

function config(url: string, queue: { keepAlive: number; timeout?: number }): string {
  return `model:
  services:
    chat:
      queue-size: 5
      queue-timeout: ${queue.timeout ?? 10_000}
      queue-keep-alive: ${queue.keepAlive}
      instances:
        - name: m
          base-url: ${url}
          max-concurrency: 1
`;
}

async function untilWaiting(gateway: TestGateway, waiting: number): Promise<void> {
  await eventually(async () => {
    assert.equal((await serviceStatus(gateway.url)).queues[0]?.waiting, waiting);
  }, 5_000);
}

/** Reads a response body piece by piece. */
function bodyReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    get text() {
      return text;
    },
    /** Reads until the text read so far matches `pattern`. */
    async until(pattern: RegExp): Promise<string> {
      while (!pattern.test(text)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`The body ended before ${pattern}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
    /** Reads to the end. */
    async all(): Promise<string> {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

Deno.test("a stream that waits gets its head, comment lines while queued, then the backend's stream", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { keepAlive: 20 }));
  try {
    const busy = postChat(gateway.url);
    await backend.received(1);
    const streaming = await within(
      postChat(gateway.url, { stream: true }),
      5_000,
      "the head comes while the request waits",
    );
    assert.equal(streaming.status, 200);
    assert.match(streaming.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(streaming.headers.get("x-queue-position"), "1");
    const body = bodyReader(streaming);
    await body.until(/(: queued position=1\n\n){2}/);
    assert.equal(backend.requests.length, 1, "still queued");
    hold.open();
    const text = await body.all();
    const stream = text.slice(text.lastIndexOf(": queued position=1\n\n") + 21);
    assert.match(stream, /^data: \{.*"Hel".*\}\n\n/);
    assert.match(stream, /data: \[DONE\]\n\n$/);
    assert.doesNotMatch(stream, /^:/m, "no comment once the stream has begun");
    await (await busy).body?.cancel();
  } finally {
    hold.open();
  }
});

Deno.test("a stream that waits less than queue-keep-alive gets the backend's head with the queue headers", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { keepAlive: 60_000 }));
  try {
    const busy = postChat(gateway.url);
    await backend.received(1);
    const streaming = postChat(gateway.url, { stream: true });
    await untilWaiting(gateway, 1);
    hold.open();
    const answer = await streaming;
    assert.equal(answer.headers.get("x-queue-position"), "1");
    assert.match(answer.headers.get("x-queue-wait-ms") ?? "", /^\d+$/);
    const text = await answer.text();
    assert.match(text, /^data: /);
    assert.doesNotMatch(text, /^:/m);
    await (await busy).body?.cancel();
  } finally {
    hold.open();
  }
});

Deno.test("a queue timeout after the head went out ends the stream with an error event", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { keepAlive: 20, timeout: 200 }));
  try {
    const busy = postChat(gateway.url);
    await backend.received(1);
    const streaming = await postChat(gateway.url, { stream: true });
    assert.equal(streaming.status, 200);
    const text = await within(bodyReader(streaming).all(), 5_000, "the stream ends");
    assert.match(text, /^: queued position=1\n\n/);
    const event = text.slice(text.indexOf("event: error"));
    assert.match(event, /^event: error\ndata: .*\n\n$/);
    const { error } = JSON.parse(event.split("data: ")[1]!);
    assert.equal(error.code, "queue_timeout");
    hold.open();
    await (await busy).body?.cancel();
    assert.equal(backend.requests.length, 1);
  } finally {
    hold.open();
  }
});

Deno.test("a backend error answer after the head went out becomes an error event", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { keepAlive: 20 }));
  try {
    const busy = postChat(gateway.url);
    await backend.received(1);
    const streaming = await postChat(gateway.url, { stream: true });
    const body = bodyReader(streaming);
    await body.until(/: queued position=1\n\n/);
    backend.failWith(400);
    hold.open();
    const text = await within(body.all(), 5_000, "the stream ends");
    const { error } = JSON.parse(text.slice(text.indexOf("event: error")).split("data: ")[1]!);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /^The backend answered 400: /);
    await (await busy).body?.cancel();
  } finally {
    hold.open();
  }
});

Deno.test("a client that leaves a stream while it is queued gives its place up", async () => {
  const hold = new Gate();
  await using backend = await startFakeBackend({ hold });
  await using gateway = await startGateway(config(backend.url, { keepAlive: 20 }));
  try {
    const busy = postChat(gateway.url);
    await backend.received(1);
    const controller = new AbortController();
    const streaming = await postChat(gateway.url, { stream: true }, { signal: controller.signal });
    await bodyReader(streaming).until(/: queued position=1\n\n/);
    assert.equal((await serviceStatus(gateway.url)).queues[0]?.waiting, 1);
    controller.abort();
    await untilWaiting(gateway, 0);
    hold.open();
    await (await busy).body?.cancel();
    const after = postChat(gateway.url);
    await (await after).body?.cancel();
    assert.equal(backend.requests.length, 2, "the one that left never reached the backend");
  } finally {
    hold.open();
  }
});
