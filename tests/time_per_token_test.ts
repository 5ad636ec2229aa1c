/**
 * A stream that ends whole teaches its instance its time per output token: the tokens after the
 * first (from the backend's `usage`, else its events) over the time from the first event on.
 */
import assert from "node:assert/strict";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";
import { sse, startScriptedBackend } from "./fixtures/scripted_backend.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A backend streaming a first event, then after `gapMs` the rest, with `usage` if given. */
function streamingBackend(gapMs: number, options: { readonly completionTokens?: number }) {
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
        await pause(gapMs);
        for (const token of ["b", "c", "d"]) {
          controller.enqueue(encoder.encode(event(token)));
          await pause(1);
        }
        if (options.completionTokens !== undefined) {
          const usage = { prompt_tokens: 3, completion_tokens: options.completionTokens };
          controller.enqueue(encoder.encode(`data: ${JSON.stringify({ choices: [], usage })}\n\n`));
        }
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      },
    });
    return sse(body);
  });
}

async function streamOnce(completionTokens?: number) {
  const backend = streamingBackend(40, completionTokens === undefined ? {} : { completionTokens });
  const gateway = await startGateway(oneService("chat", [backend.url]));
  const started = performance.now();
  const response = await postChat(gateway.url, { stream: true });
  assert.equal(response.status, 200);
  await response.text();
  const elapsed = performance.now() - started;
  const performanceOf = gateway.gateway.registry.snapshot.services.chat.upstreams[0]!.state
    .performance;
  // The lease settles as the body ends; the end reached the client first.
  for (let i = 0; i < 50 && performanceOf.perToken.value === undefined; i++) await pause(1);
  await gateway.close();
  await backend.close();
  return { perToken: performanceOf.perToken.value, elapsed };
}

Deno.test("a stream's usage gives its instance's time per output token", async () => {
  const { perToken, elapsed } = await streamOnce(41);
  assert.ok(perToken !== undefined, "measured");
  // 40 tokens after the first, over at least the 40 ms gap and at most the whole request.
  assert.ok(perToken * 40 >= 38 && perToken * 40 <= elapsed, `${perToken} ms per token`);
});

Deno.test("without usage, a stream's events count its tokens", async () => {
  const { perToken, elapsed } = await streamOnce();
  assert.ok(perToken !== undefined, "measured");
  // Four content events: three after the first.
  assert.ok(perToken * 3 >= 38 && perToken * 3 <= elapsed, `${perToken} ms per token`);
});
