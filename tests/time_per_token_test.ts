/**
 * A stream that ends whole teaches its instance its time per output token: the tokens after the
 * first (from the backend's `usage`, else its events) over the time from the first event on.
 */
import assert from "node:assert/strict";
import { Gate } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import { sse, startScriptedBackend } from "./fixtures/scripted_backend.ts";

/**
 * A backend streaming a first event, then, once `rest` opens, three more, the `usage` with
 * `completionTokens` if given, and `[DONE]`.
 */
function streamingBackend(rest: Gate, completionTokens: number | undefined) {
  const event = (content: string) =>
    `data: ${
      JSON.stringify({
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { content } }],
      })
    }\n\n`;
  return startScriptedBackend(() => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode(event("a")));
        await rest.wait();
        for (const token of ["b", "c", "d"]) controller.enqueue(encoder.encode(event(token)));
        if (completionTokens !== undefined) {
          const usage = { prompt_tokens: 3, completion_tokens: completionTokens };
          controller.enqueue(encoder.encode(`data: ${JSON.stringify({ choices: [], usage })}\n\n`));
        }
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      },
    });
    return sse(body);
  });
}

/**
 * Streams once, holding the rest of the stream back for a while after the client has the first
 * event: the time per token measured, and the bounds of the time it is over.
 */
async function streamOnce(completionTokens?: number) {
  const rest = new Gate();
  await using backend = streamingBackend(rest, completionTokens);
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const started = performance.now();
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read();
  // The gateway read the first event before the client got it: from then on the stream is
  // timed, at least until the rest is let go.
  const firstSeen = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const held = performance.now() - firstSeen;
  rest.open();
  while (!(await reader.read()).done) { /* the rest of the stream */ }
  const elapsed = performance.now() - started;
  // The instance learnt it before the stream's end reached the client.
  const { perToken } = gateway.gateway.registry.snapshot.services.chat.upstreams[0]!.state
    .performance;
  return { perToken: perToken.value, held, elapsed };
}

Deno.test("a stream's usage gives its instance's time per output token", async () => {
  const { perToken, held, elapsed } = await streamOnce(41);
  assert.ok(perToken !== undefined, "measured");
  // 40 tokens after the first, over at least the time held back and at most the whole request.
  assert.ok(perToken * 40 >= held && perToken * 40 <= elapsed, `${perToken} ms per token`);
});

Deno.test("without usage, a stream's events count its tokens", async () => {
  const { perToken, held, elapsed } = await streamOnce();
  assert.ok(perToken !== undefined, "measured");
  // Four content events: three after the first.
  assert.ok(perToken * 3 >= held && perToken * 3 <= elapsed, `${perToken} ms per token`);
});
