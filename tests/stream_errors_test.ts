/**
 * A stream that breaks off after its first byte cannot be retried, but it must not look like a
 * complete answer either: it ends with an SSE error event in OpenAI's shape, which the SDKs
 * raise.
 */
import assert from "node:assert/strict";
import OpenAI, { APIError } from "openai";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { within } from "./fixtures/gate.ts";
import { oneService, startGateway } from "./fixtures/gateway.ts";
import { serviceStatus } from "./fixtures/requests.ts";

async function streamedTokens(gatewayUrl: string): Promise<{ tokens: string[]; error: unknown }> {
  const client = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const tokens: string[] = [];
  try {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [],
      stream: true,
    });
    for await (const chunk of stream) tokens.push(chunk.choices[0]?.delta.content ?? "");
    return { tokens, error: undefined };
  } catch (error) {
    return { tokens, error };
  }
}

Deno.test("a backend that drops a stream midway: the SDK raises upstream_broken_stream", async () => {
  await using backend = await startFakeBackend({
    stream: { tokens: ["a", "b", "c"], dropAfter: 1 },
  });
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const { tokens, error } = await streamedTokens(gateway.url);
  assert.deepEqual(tokens, ["a"]);
  assert.ok(error instanceof APIError, String(error));
  assert.equal(error.code, "upstream_broken_stream");
  assert.match(error.message, /broke off the stream midway/);
  const [instance] = (await serviceStatus(gateway.url)).instances;
  assert.equal(instance?.activeRequests, 0);
});

Deno.test("a stream stalled past the idle timeout: the SDK raises upstream_timeout", async () => {
  await using backend = await startFakeBackend({ stream: { tokens: ["a", "b"], stallAfter: 1 } });
  await using gateway = await startGateway(
    oneService("chat", [backend.url], { server: "server:\n  timeouts:\n    idle: 50\n" }),
  );
  const { tokens, error } = await within(streamedTokens(gateway.url), 5000, "the stream ended");
  assert.deepEqual(tokens, ["a"]);
  assert.ok(error instanceof APIError, String(error));
  assert.equal(error.code, "upstream_timeout");
  assert.match(error.message, /sent nothing for 50 ms/);
  await within(backend.requests[0]!.aborted, 2000, "the stalled backend's request was aborted");
});
