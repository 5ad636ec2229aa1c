import assert from "node:assert/strict";
import { tcpConnect } from "../../runtime.ts";
import { gates as closedGates } from "../../../tests/fixtures/gate.ts";
import { transportTarget } from "../target.ts";
import { type Http1Answer, Http1Client, type Http1Target } from "./client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function targetOf(server: Deno.HttpServer<Deno.NetAddr>, path: string): Http1Target {
  const { port } = server.addr;
  return transportTarget(`http://127.0.0.1:${port}${path}`).http1;
}

function post(body: Uint8Array, signal = new AbortController().signal) {
  return {
    method: "POST",
    headers: new Map([["content-type", "application/octet-stream"]]),
    body,
    signal,
  };
}

Deno.test("against Deno.serve: requests share one connection, and bodies cross intact both ways", async () => {
  const peers = new Set<number>();
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request, info) => {
      peers.add(info.remoteAddr.port);
      const body = new Uint8Array(await request.arrayBuffer());
      return new Response(body.reverse(), { headers: { "x-length": String(body.length) } });
    },
  );
  const client = new Http1Client(tcpConnect);
  const sent = new Uint8Array(1 << 20).map((_, index) => (index * 31) % 256);
  for (let round = 0; round < 3; round++) {
    const response = asResponse(await client.request(targetOf(server, "/echo"), post(sent)));
    assert.equal(response.headers.get("x-length"), String(sent.length));
    const received = new Uint8Array(await response.arrayBuffer());
    assert.deepEqual(received, sent.slice().reverse());
  }
  assert.equal(peers.size, 1);
  assert.equal(client.idleConnections, 1);
  await client.close();
});

Deno.test("against Deno.serve: a streamed answer arrives chunk by chunk", async () => {
  const gates = closedGates(3);
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent > 0) await gates[sent - 1]!.wait();
          if (sent === 3) return controller.close();
          controller.enqueue(encoder.encode(`data: ${sent++}\n\n`));
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const client = new Http1Client(tcpConnect);
  const response = asResponse(
    await client.request(targetOf(server, "/stream"), post(new Uint8Array())),
  );
  const reader = response.body!.getReader();
  for (let event = 0; event < 3; event++) {
    assert.equal(decoder.decode((await reader.read()).value), `data: ${event}\n\n`);
    // The next event is sent only now, so this one came alone, as it was sent.
    gates[event]!.open();
  }
  assert.equal((await reader.read()).done, true);
  await client.close();
});

Deno.test("against a closed port: the runtime's connection refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const client = new Http1Client(tcpConnect);
  await assert.rejects(
    client.request(
      transportTarget(`http://127.0.0.1:${port}/`).http1,
      post(new Uint8Array()),
    ),
    (error) => error instanceof Deno.errors.ConnectionRefused,
  );
  await client.close();
});

/** The answer as a `Response`, to read it the way a test reads any. */
function asResponse(answer: Http1Answer): Response {
  const { status, statusText, headers, body } = answer;
  return new Response(body, { status, statusText, headers });
}
