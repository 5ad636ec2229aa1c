/**
 * What an open stream holds: once its answer is streaming, the request it answers (whose prompt
 * may be large) is no longer needed, and nothing keeps it.
 */
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { startGateway } from "./fixtures/gateway.ts";
import { deferred } from "./fixtures/gate.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";

const MiB = 1024 * 1024;

/** A full garbage collection, from a context where V8's `gc` is exposed. */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

/** Heap and external memory in use once garbage is collected, in bytes. */
async function memoryInUse(): Promise<number> {
  // A turn of the event loop first, so that what just finished lets go of its objects.
  await new Promise((resolve) => setTimeout(resolve, 0));
  collectGarbage();
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

/** A chat stream's first chunk, as an OpenAI-style backend sends it. */
const FIRST_CHUNK = `data: ${
  JSON.stringify({
    id: "c",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { role: "assistant", content: "a" }, finish_reason: null }],
  })
}\n\n`;

/** The APIs a client may stream a chat through, each with a request carrying `prompt`. */
const APIS: Record<string, { path: string; body: (prompt: string) => unknown }> = {
  "Chat Completions": {
    path: "/v1/chat/completions",
    body: (prompt) => ({ model: "m", stream: true, messages: [{ role: "user", content: prompt }] }),
  },
  "Messages": {
    path: "/v1/messages",
    body: (prompt) => ({
      model: "m",
      stream: true,
      max_tokens: 16,
      messages: [{ role: "user", content: prompt }],
    }),
  },
  "Responses": {
    path: "/v1/responses",
    body: (prompt) => ({ model: "m", stream: true, input: prompt }),
  },
};

/** A key with a budget: its use is stored as each answer ends, which a stream waits for. */
const BUDGETED_KEY = "sk-budgeted-stream-0001";
const BUDGETED_AUTH = `auth:
  enabled: true
  keys:
    - id: budgeted
      key: ${BUDGETED_KEY}
      budget:
        requests-per-day: 1000
`;

/**
 * Memory more in use while four streams are open whose requests carried 4 MiB of prompt each,
 * through `api`, in bytes.
 */
async function heldWhileStreaming(
  api: { path: string; body: (prompt: string) => unknown },
  options: { readonly budgeted?: boolean } = {},
): Promise<number> {
  const streamsEnd = deferred<void>();
  await using backend = startScriptedServer(async (peer) => {
    await peer.readRequest();
    const first = new TextEncoder().encode(FIRST_CHUNK);
    await peer.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
        `${first.length.toString(16)}\r\n${FIRST_CHUNK}\r\n`,
    );
    await streamsEnd.promise;
    await peer.write("e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n");
  });
  await using gateway = await startGateway(`${options.budgeted ? BUDGETED_AUTH : ""}model:
  services:
    chat:
      instances:
        - name: m
          base-url: ${backend.url}
`);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.budgeted) headers.authorization = `Bearer ${BUDGETED_KEY}`;
  const open = async (prompt: string) => {
    const response = await fetch(`${gateway.url}${api.path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(api.body(prompt)),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    assert.ok(((await reader.read()).value?.length ?? 0) > 0);
    return reader;
  };
  // Warmed up with one small stream, so that what the first request sets up is not counted.
  const readers = [await open("hi")];
  const before = await memoryInUse();
  for (let index = 0; index < 4; index++) readers.push(await open(`${index}`.repeat(4 * MiB)));
  const streaming = await memoryInUse() - before;
  streamsEnd.resolve();
  for (const reader of readers) while (!(await reader.read()).done) { /* to the end */ }
  return streaming;
}

/** Four streams whose requests carried 16 MiB of prompt between them keep less than 4 MiB. */
function assertLetGo(streaming: number): void {
  assert.ok(
    streaming < 4 * MiB,
    `${(streaming / MiB).toFixed(1)} MiB more in use while the streams are open`,
  );
}

for (const [name, api] of Object.entries(APIS)) {
  Deno.test(`${name}: a stream keeps none of its request's body once the answer streams`, async () => {
    assertLetGo(await heldWhileStreaming(api));
  });
}

Deno.test("a stream of a key with a budget keeps none of its request's body either", async () => {
  assertLetGo(await heldWhileStreaming(APIS["Chat Completions"]!, { budgeted: true }));
});
