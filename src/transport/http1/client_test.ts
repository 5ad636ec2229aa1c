import assert from "node:assert/strict";
import { ScriptedBackend } from "../../../tests/fixtures/scripted_socket.ts";
import { type Http1Answer, Http1Client, type Http1Target } from "./client.ts";
import { ConnectionClosed, FIRST_READ_BUFFER_SIZE, MAX_READ_BUFFER_SIZE } from "./connection.ts";
import type { IdlePoolOptions } from "./idle_pool.ts";
import { ConnectTimeout, ProtocolError } from "../errors.ts";
import type { Deadline, Schedule } from "../../lib/deadlines.ts";

const TARGET: Http1Target = {
  hostname: "127.0.0.1",
  port: 8000,
  host: "127.0.0.1:8000",
  path: "/v1/chat/completions?x=1",
  tls: false,
  key: "http://127.0.0.1:8000",
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OK_JSON =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}';

function post(body = '{"model":"m"}', signal = new AbortController().signal) {
  return {
    method: "POST",
    headers: new Map([["content-type", "application/json"], ["x-request-id", "r1"]]),
    body: encoder.encode(body),
    signal,
  };
}

/** A client whose one connection has carried an answer and now waits in the pool. */
async function withIdleConnection(options: IdlePoolOptions = {}) {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect, options);
  const first = client.request(TARGET, post());
  backend.socket(0).feed(OK_JSON);
  await asResponse(await first).text();
  return { backend, client };
}

/** A schedule whose deadlines fire only when the test says. */
function manualSchedule(): { schedule: Schedule; fire(): void; pending(): number } {
  const callbacks = new Set<() => void>();
  return {
    schedule(callback): Deadline {
      callbacks.add(callback);
      return { cancel: () => callbacks.delete(callback) };
    },
    fire() {
      const due = [...callbacks];
      callbacks.clear();
      for (const callback of due) callback();
    },
    pending: () => callbacks.size,
  };
}

Deno.test("the request goes out whole, with Host and Content-Length, in one write", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed(OK_JSON);
  const response = asResponse(await answer);
  assert.equal(backend.socket(0).writes.length, 1);
  assert.equal(
    backend.socket(0).sent,
    "POST /v1/chat/completions?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8000\r\n" +
      "content-type: application/json\r\nx-request-id: r1\r\ncontent-length: 13\r\n\r\n" +
      '{"model":"m"}',
  );
  assert.deepEqual(backend.targets, [TARGET]);
  assert.equal(response.status, 200);
  assert.equal(response.statusText, "OK");
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.deepEqual(await response.json(), { ok: true });
  await client.close();
});

Deno.test("a keep-alive connection carries the next request", async () => {
  const { backend, client } = await withIdleConnection();
  assert.equal(client.idleConnections, 1);
  const second = client.request(TARGET, post('{"n":2}'));
  backend.socket(0).feed(OK_JSON);
  assert.equal(asResponse(await second).status, 200);
  assert.equal(backend.sockets.length, 1);
  assert.match(backend.socket(0).sent, /\{"n":2\}$/);
  await client.close();
  assert.equal(backend.socket(0).closed, true);
});

Deno.test("a chunked body arrives piece by piece, and its connection is reused after", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  const socket = backend.socket(0);
  socket.feed(
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
  );
  socket.feed("7\r\ndata: 1");
  const response = asResponse(await answer);
  const reader = response.body!.getReader();
  assert.equal(decoder.decode((await reader.read()).value), "data: 1");
  // The next chunk is not there yet: the read waits for it, the body is not over.
  const next = reader.read();
  socket.feed("\r\n8;name=value\r\n\n\ndata: ");
  assert.equal(decoder.decode((await next).value), "\n\ndata: ");
  socket.feed("\r\n3\r\n2\r\n\r\n0\r\nx-trailer: t\r\n\r\n");
  assert.equal(decoder.decode((await reader.read()).value), "2\r\n");
  assert.equal((await reader.read()).done, true);
  assert.equal(client.idleConnections, 1);
  assert.equal(socket.closed, false);
  await client.close();
});

Deno.test("chunks that arrive together are handed on together", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed(
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
  );
  const response = asResponse(await answer);
  const pieces: string[] = [];
  for await (const piece of response.body!) pieces.push(decoder.decode(piece));
  assert.deepEqual(pieces, ["abcdef"]);
  await client.close();
});

Deno.test("a body longer than the read buffer arrives whole, in order, read in growing pieces", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const body = new Uint8Array(300_000).map((_, index) => index % 251);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
  backend.socket(0).feed(body);
  const response = asResponse(await answer);
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), body);
  assert.equal(client.idleConnections, 1);
  // Reads start small; each one that fills the buffer doubles it, up to the largest size.
  const sizes = backend.socket(0).readSizes;
  assert.equal(sizes[0], FIRST_READ_BUFFER_SIZE);
  const growing = sizes.slice(1, sizes.indexOf(MAX_READ_BUFFER_SIZE) + 1);
  assert.deepEqual(growing, [4096, 8192, 16384, 32768, 65536]);
  assert.equal(Math.max(...sizes), MAX_READ_BUFFER_SIZE);
  // Back in the pool, the connection waits with a small buffer again.
  assert.equal(sizes.at(-1), FIRST_READ_BUFFER_SIZE);
  await client.close();
});

Deno.test("a stream waits for its next chunk with a small read buffer", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  const socket = backend.socket(0);
  socket.feed("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7\r\ndata: 1\r\n");
  const reader = asResponse(await answer).body!.getReader();
  assert.equal(decoder.decode((await reader.read()).value), "data: 1");
  const next = reader.read();
  socket.feed("7\r\ndata: 2\r\n0\r\n\r\n");
  assert.equal(decoder.decode((await next).value), "data: 2");
  assert.equal((await reader.read()).done, true);
  // The head, the wait for the second chunk, and the wait in the pool after.
  assert.deepEqual(socket.readSizes, [4096, 4096, 4096]);
  await client.close();
});

Deno.test("a body without length or chunks ends with the connection, which is not reused", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed("HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\n\r\nID3");
  const response = asResponse(await answer);
  const text = response.text();
  backend.socket(0).feed("-rest");
  backend.socket(0).end();
  assert.equal(await text, "ID3-rest");
  assert.equal(client.idleConnections, 0);
  assert.equal(backend.socket(0).closed, true);
  await client.close();
});

Deno.test("Connection: close and HTTP/1.0 answers close their connection after the body", async () => {
  for (
    const head of [
      "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
      "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ]
  ) {
    const backend = new ScriptedBackend();
    const client = new Http1Client(backend.connect);
    const answer = client.request(TARGET, post());
    backend.socket(0).feed(head);
    assert.equal(await asResponse(await answer).text(), "ok");
    assert.equal(client.idleConnections, 0);
    assert.equal(backend.socket(0).closed, true);
    await client.close();
  }
});

Deno.test("interim 1xx answers are skipped", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
  );
  backend.socket(0).feed("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
  const response = asResponse(await answer);
  assert.equal(response.status, 201);
  assert.equal(response.headers.has("link"), false);
  assert.equal(response.body, null);
  await client.close();
});

Deno.test("a pooled connection the backend closed as it was taken is replaced, and the request sent again", async () => {
  const { backend, client } = await withIdleConnection();
  const second = client.request(TARGET, post('{"n":2}'));
  await backend.socket(0).written(2);
  backend.socket(0).end();
  await Promise.resolve();
  await waitFor(() => backend.sockets.length === 2);
  backend.socket(1).feed(OK_JSON);
  assert.equal(asResponse(await second).status, 200);
  assert.equal(backend.socket(0).closed, true);
  assert.equal(backend.socket(1).sent, decoder.decode(backend.socket(0).writes[1]));
  await client.close();
});

Deno.test("a pooled connection whose write fails is replaced too", async () => {
  const { backend, client } = await withIdleConnection();
  backend.socket(0).brokenPipe = true;
  const second = client.request(TARGET, post());
  await waitFor(() => backend.sockets.length === 2);
  backend.socket(1).feed(OK_JSON);
  assert.equal(asResponse(await second).status, 200);
  await client.close();
});

Deno.test("a new connection closed before any answer fails the request, with no second try", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).end();
  await assert.rejects(answer, (error) => {
    assert.ok(error instanceof ConnectionClosed);
    assert.match(error.message, /connection closed before an answer/);
    return true;
  });
  assert.equal(backend.sockets.length, 1);
  assert.equal(backend.socket(0).closed, true);
  await client.close();
});

Deno.test("a refused connection fails with the runtime's error", async () => {
  const backend = new ScriptedBackend();
  const refused = new Error("Connection refused (os error 111)");
  refused.name = "ConnectionRefused";
  backend.refuseNext = refused;
  const client = new Http1Client(backend.connect);
  await assert.rejects(client.request(TARGET, post()), (error) => error === refused);
  await client.close();
});

Deno.test("a connection the backend closes while idle leaves the pool", async () => {
  const { backend, client } = await withIdleConnection();
  assert.equal(client.idleConnections, 1);
  backend.socket(0).end();
  await waitFor(() => client.idleConnections === 0);
  assert.equal(backend.socket(0).closed, true);
  const second = client.request(TARGET, post());
  await waitFor(() => backend.sockets.length === 2);
  backend.socket(1).feed(OK_JSON);
  assert.equal(asResponse(await second).status, 200);
  await client.close();
});

Deno.test("an idle connection is closed when its idle timeout passes", async () => {
  const timer = manualSchedule();
  const { backend, client } = await withIdleConnection({ schedule: timer.schedule });
  assert.equal(timer.pending(), 1);
  timer.fire();
  assert.equal(client.idleConnections, 0);
  assert.equal(backend.socket(0).closed, true);
  await client.close();
});

Deno.test("taking a connection from the pool calls off its idle timeout", async () => {
  const timer = manualSchedule();
  const { backend, client } = await withIdleConnection({ schedule: timer.schedule });
  const second = client.request(TARGET, post());
  assert.equal(timer.pending(), 0);
  backend.socket(0).feed(OK_JSON);
  await asResponse(await second).text();
  assert.equal(timer.pending(), 1);
  await client.close();
  assert.equal(timer.pending(), 0);
});

Deno.test("an abort while waiting for the answer closes the connection and rejects with its reason", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const controller = new AbortController();
  const answer = client.request(TARGET, post(undefined, controller.signal));
  await backend.socket(0).written(1);
  const reason = new Error("client left");
  controller.abort(reason);
  await assert.rejects(answer, (error) => error === reason);
  assert.equal(backend.socket(0).closed, true);
  assert.equal(client.idleConnections, 0);
  await client.close();
});

Deno.test("an abort midway through the body errors the body with its reason", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const controller = new AbortController();
  const answer = client.request(TARGET, post(undefined, controller.signal));
  backend.socket(0).feed("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n");
  const reader = asResponse(await answer).body!.getReader();
  assert.equal(decoder.decode((await reader.read()).value), "a");
  const next = reader.read();
  const reason = new Error("idle");
  controller.abort(reason);
  await assert.rejects(next, (error) => error === reason);
  assert.equal(backend.socket(0).closed, true);
  await client.close();
});

Deno.test("a body given up by its reader closes the connection", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
  const reader = asResponse(await answer).body!.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(backend.socket(0).closed, true);
  assert.equal(client.idleConnections, 0);
  await client.close();
});

Deno.test("a body cut off before its length fails with ConnectionClosed", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
  const response = asResponse(await answer);
  backend.socket(0).end();
  await assert.rejects(response.arrayBuffer(), /connection closed midway through the body/);
  assert.equal(backend.socket(0).closed, true);
  await client.close();
});

Deno.test("answers that are not HTTP/1.1 fail with a ProtocolError and close the connection", async () => {
  for (
    const [bytes, message] of [
      ["SSH-2.0-OpenSSH\r\n\r\n", /no status line/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", /two different/],
      ["HTTP/1.1 200 OK\r\n folded: line\r\n\r\n", /bad header name/],
      ["HTTP/1.1 101 Switching Protocols\r\n\r\n", /switch of protocols/],
      ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", /bad chunk size/],
    ] as const
  ) {
    const backend = new ScriptedBackend();
    const client = new Http1Client(backend.connect);
    const answer = client.request(TARGET, post()).then((got) => asResponse(got).arrayBuffer());
    backend.socket(0).feed(bytes);
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof ProtocolError, String(error));
      assert.match(error.message, message);
      return true;
    });
    assert.equal(backend.socket(0).closed, true);
    await client.close();
  }
});

Deno.test("a response head larger than the first read buffer is read whole", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  const value = "a".repeat(60_000);
  backend.socket(0).feed(`HTTP/1.1 200 OK\r\nx-big: ${value}\r\ncontent-length: 2\r\n\r\nok`);
  const response = asResponse(await answer);
  assert.equal(response.headers.get("x-big"), value);
  assert.equal(await response.text(), "ok");
  const sizes = backend.socket(0).readSizes;
  assert.equal(sizes[0], FIRST_READ_BUFFER_SIZE);
  assert.equal(client.idleConnections, 1);
  await client.close();
});

Deno.test("a response head over 64 KiB is refused", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed(`HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`);
  await assert.rejects(answer, /response head over 64 KiB/);
  await client.close();
});

Deno.test("a header that would break the request line is refused before connecting", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const request = { ...post(), headers: new Map([["x-evil", "a\r\nhost: elsewhere"]]) };
  await assert.rejects(client.request(TARGET, request), TypeError);
  assert.equal(backend.sockets.length, 0);
  await client.close();
});

Deno.test("header values are byte strings, sent one byte per character", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, {
    ...post(""),
    headers: new Map([["x-name", "caf\u00e9"]]),
  });
  backend.socket(0).feed("HTTP/1.1 200 OK\r\nx-back: na\u00efve\r\ncontent-length: 0\r\n\r\n");
  // The scripted socket sends the answer as UTF-8: "ï" is two bytes, so two characters.
  assert.equal(asResponse(await answer).headers.get("x-back"), "na\u00c3\u00afve");
  const sent = backend.socket(0).writes[0]!;
  const at = sent.indexOf(0xe9); // "é" of "café"
  assert.deepEqual([...sent.subarray(at - 3, at + 3)], [0x63, 0x61, 0x66, 0xe9, 13, 10]);
  await client.close();
});

Deno.test("a large body goes out after its head, unchanged", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const body = new Uint8Array(200_000).map((_, index) => index % 7);
  const answer = client.request(TARGET, { ...post(), body });
  backend.socket(0).feed(OK_JSON);
  await asResponse(await answer).text();
  const [head, sentBody] = backend.socket(0).writes;
  assert.match(decoder.decode(head), /content-length: 200000\r\n\r\n$/);
  assert.deepEqual(sentBody, body);
  await client.close();
});

Deno.test("a connection put back after the client closed is closed", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  const answer = client.request(TARGET, post());
  backend.socket(0).feed("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n");
  const response = asResponse(await answer);
  await client.close();
  backend.socket(0).feed("ok");
  assert.equal(await response.text(), "ok");
  assert.equal(backend.socket(0).closed, true);
  assert.equal(client.idleConnections, 0);
});

/** Lets pending promise reactions run until `condition` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100; turn++) {
    if (condition()) return;
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }
  assert.fail("the condition never held");
}

/** The answer as a `Response`, to read it the way a test reads any. */
function asResponse(answer: Http1Answer): Response {
  const { status, statusText, headers, body } = answer;
  return new Response(body, { status, statusText, headers });
}

Deno.test("a connection that does not open within the connect timeout fails the request", async () => {
  const backend = new ScriptedBackend();
  const timers = manualSchedule();
  const client = new Http1Client(backend.connect, { schedule: timers.schedule });
  backend.stallNext = true;
  const answer = client.request(TARGET, { ...post(), connectTimeout: 50 });
  await waitFor(() => timers.pending() === 1);
  timers.fire();
  await assert.rejects(answer, (error) => {
    assert.ok(error instanceof ConnectTimeout);
    assert.match(error.message, /within 50 ms/);
    return true;
  });
  await client.close();
});

Deno.test("an answer that comes while the body is still being written is read, and the connection is not kept", async () => {
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect);
  // The head goes out; the backend reads no further and refuses.
  backend.acceptedWrites = 1;
  const answer = client.request(TARGET, post("x".repeat(200 * 1024)));
  await waitFor(() => backend.sockets.length === 1);
  backend.socket(0).feed(
    "HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\ntoo large",
  );
  const response = asResponse(await answer);
  assert.equal(response.status, 413);
  assert.equal(await response.text(), "too large");
  assert.equal(client.idleConnections, 0);
  assert.equal(backend.socket(0).closed, true);
  await client.close();
});

Deno.test("a backend's Keep-Alive timeout shortens a connection's wait in the pool", async () => {
  const waits: number[] = [];
  const schedule: Schedule = (_callback, ms) => {
    waits.push(ms);
    return { cancel() {} };
  };
  const backend = new ScriptedBackend();
  const client = new Http1Client(backend.connect, { schedule });
  const answered = async (keepAlive: string) => {
    const answer = client.request(TARGET, post());
    await waitFor(() => backend.sockets.length > 0 && !backend.sockets.at(-1)!.closed);
    backend.sockets.at(-1)!.feed(
      `HTTP/1.1 200 OK\r\nkeep-alive: ${keepAlive}\r\ncontent-length: 2\r\n\r\n{}`,
    );
    await asResponse(await answer).text();
  };
  await answered("timeout=5");
  assert.deepEqual(waits, [4000]);
  assert.equal(client.idleConnections, 1);
  client.request(TARGET, post()).catch(() => {});
  backend.socket(0).feed("HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 0\r\n\r\n");
  await waitFor(() => backend.socket(0).closed);
  assert.equal(client.idleConnections, 0, "too short to wait at all");
  await client.close();
});
