import assert from "node:assert/strict";
import { Gate } from "../../tests/fixtures/gate.ts";
import { startScriptedServer } from "../../tests/fixtures/raw_http.ts";
import type { Deadline } from "../lib/deadlines.ts";
import { ConnectTimeout, ProtocolError } from "./errors.ts";
import { fetchTransport } from "./fetch_transport.ts";
import type { TransportRequest, TransportTarget } from "./transport.ts";

/** A schedule whose one pending callback runs when the test says. */
function manualSchedule() {
  let pending: (() => void) | undefined;
  return {
    schedule(callback: () => void): Deadline {
      pending = callback;
      return { cancel: () => pending = undefined };
    },
    fire: () => pending?.(),
    get armed() {
      return pending !== undefined;
    },
  };
}

function targetOf(url: string): TransportTarget {
  const { hostname, port } = new URL(url);
  return { url: `${url}/v1/chat/completions`, hostname, port: Number(port), http1: undefined };
}

function post(): TransportRequest {
  return {
    method: "POST",
    headers: new Map([["content-type", "application/json"]]),
    body: new TextEncoder().encode("{}"),
    signal: new AbortController().signal,
    connectTimeout: 100,
  };
}

const OK = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";

Deno.test("fetch: no answer and no connection within the connect timeout is a ConnectTimeout", async () => {
  const release = new Gate();
  await using backend = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await release.wait();
  });
  const timers = manualSchedule();
  const transport = fetchTransport({ reachable: () => Promise.resolve(false), ...timers });
  const answer = transport.send(targetOf(backend.url), post());
  assert.ok(timers.armed);
  timers.fire();
  await assert.rejects(answer, ConnectTimeout);
  release.open();
});

Deno.test("fetch: a backend that is reachable but slow gets to answer", async () => {
  const release = new Gate();
  await using backend = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await release.wait();
    await peer.write(OK);
  });
  const timers = manualSchedule();
  const transport = fetchTransport({ reachable: () => Promise.resolve(true), ...timers });
  const answer = transport.send(targetOf(backend.url), post());
  timers.fire();
  release.open();
  const response = await answer;
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "{}");
  assert.equal(timers.armed, false, "the probe is called off once answered");
});

Deno.test("fetch: an answer that breaks HTTP is a ProtocolError", async () => {
  await using backend = startScriptedServer(async (peer) => {
    await peer.readRequest();
    await peer.write("HTTP/1.1 200 OK\r\nx-odd: a\0b\r\ncontent-length: 0\r\n\r\n");
  });
  const transport = fetchTransport({ reachable: () => Promise.resolve(true) });
  await assert.rejects(transport.send(targetOf(backend.url), post()), ProtocolError);
});
