import assert from "node:assert/strict";
import { ollama } from "../adapters/ollama.ts";
import { vllm } from "../adapters/vllm.ts";
import { addressCheck } from "../net/address_policy.ts";
import { socketConnector } from "../transport/connect.ts";
import { http1Transport } from "../transport/http1_transport.ts";
import { probeHealth, readModels } from "./backend_requests.ts";

/** A server on 127.0.0.1 answering every request with `answer`. */
function serve(answer: (request: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, answer);
  return {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("a probe follows no redirect: a 302 is a failed probe, not the page it points to", async () => {
  await using transport = http1Transport(socketConnector());
  const seen: string[] = [];
  await using server = serve((request) => {
    seen.push(new URL(request.url).pathname);
    return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
  });
  const result = await probeHealth(
    { baseUrl: server.url, adapter: vllm, headers: [["authorization", "Bearer k"]] },
    { timeout: 2_000, transport },
  );
  assert.deepEqual(result, { ok: false, reason: "GET /health answered 302", decisive: false });
  assert.deepEqual(seen, ["/health"]);
});

Deno.test("a probe the address check refuses sends nothing and is decisive", async () => {
  await using transport = http1Transport(socketConnector({
    resolve: () => Promise.resolve(["127.0.0.1"]),
  }));
  const seen: string[] = [];
  await using server = serve((request) => {
    seen.push(new URL(request.url).pathname);
    return new Response("ok");
  });
  const result = await probeHealth({
    baseUrl: server.url.replace("127.0.0.1", "gpu.test"),
    adapter: vllm,
    headers: [],
    addressCheck: addressCheck({ allowPrivate: false }),
  }, { timeout: 2_000, transport });
  assert.deepEqual(result, {
    ok: false,
    reason: `"gpu.test" resolves to 127.0.0.1, which is a loopback address (127.0.0.0/8), ` +
      `refused because admin.allow-private is false`,
    decisive: true,
  });
  assert.deepEqual(seen, []);
});

Deno.test("a probe sends the instance's headers and a 5xx answer is decisive", async () => {
  await using transport = http1Transport(socketConnector());
  let auth: string | null = null;
  await using server = serve((request) => {
    auth = request.headers.get("authorization");
    return new Response("loading", { status: 503 });
  });
  const result = await probeHealth(
    { baseUrl: server.url, adapter: vllm, headers: [["authorization", "Bearer k"]] },
    { timeout: 2_000, transport },
  );
  assert.deepEqual(result, { ok: false, reason: "GET /health answered 503", decisive: true });
  assert.equal(auth, "Bearer k");
});

Deno.test("a refused connection is decisive; a probe that outlasts its timeout is not", async () => {
  await using transport = http1Transport(socketConnector());
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const refused = await probeHealth({ baseUrl: closedUrl, adapter: vllm, headers: [] }, {
    timeout: 2_000,
    transport,
  });
  assert.deepEqual(refused, {
    ok: false,
    reason: "cannot connect (connection refused)",
    decisive: true,
  });

  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  await using server = serve(async () => {
    await held;
    return new Response("late");
  });
  const slow = await probeHealth({ baseUrl: server.url, adapter: vllm, headers: [] }, {
    timeout: 50,
    transport,
  });
  release();
  assert.deepEqual(slow, { ok: false, reason: "no answer within 50 ms", decisive: false });
});

Deno.test("a model list of the wrong shape is an error that says so", async () => {
  await using transport = http1Transport(socketConnector());
  await using server = serve(() => Response.json({ data: [] }));
  await assert.rejects(
    () =>
      readModels({ baseUrl: server.url, adapter: ollama, headers: [] }, {
        timeout: 2_000,
        transport,
      }),
    /GET \/api\/tags answered something unexpected: Expected \/api\/tags to answer a models array/,
  );
});
