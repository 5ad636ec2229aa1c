import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";
import type { ClientBody } from "../../proxy/request/body.ts";
import { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import { chatToMessages } from "./chat_to_messages.ts";

const encoder = new TextEncoder();

function clientBody(json: Record<string, unknown>): ClientBody {
  return {
    bytes: encoder.encode(JSON.stringify(json)),
    contentType: "application/json",
    model: String(json.model),
    stream: json.stream === true,
    json,
  };
}

const CHAT = { model: "claude-x", messages: [{ role: "user", content: "Hi" }] };

Deno.test("the exchange sends the Messages body as JSON and says whether it streams", () => {
  const exchange = chatToMessages.exchange(
    clientBody({ ...CHAT, stream: true }),
    1_700_000_000_000,
  );
  assert.equal(exchange.contentType, "application/json");
  assert.equal(exchange.streamed, true);
  const sent = JSON.parse(new TextDecoder().decode(exchange.body));
  assert.equal(sent.stream, true);
  assert.equal(sent.max_tokens, 4096);
});

Deno.test("an error answer keeps retry-after; 529 becomes 503", async () => {
  const exchange = chatToMessages.exchange(clientBody(CHAT), 0);
  const answer = await exchange.answer(
    new UpstreamAnswer(
      529,
      "",
      [["content-type", "application/json"], ["retry-after", "3"]],
      encoder.encode(
        JSON.stringify({
          type: "error",
          error: { type: "overloaded_error", message: "Overloaded" },
        }),
      ),
    ),
  );
  assert.equal(answer.status, 503);
  assert.equal(answer.header("retry-after"), "3");
  assert.equal(answer.header("content-type"), "application/json");
  assert.equal(
    ((await answer.json()) as { error: { code: string } }).error.code,
    "overloaded_error",
  );
});

Deno.test("an answer that is not JSON is a 502; a stream comes back as an event stream", async () => {
  const exchange = chatToMessages.exchange(clientBody(CHAT), 0);
  await assert.rejects(
    async () => await exchange.answer(new UpstreamAnswer(200, "", [], encoder.encode("<html>"))),
    (error) => error instanceof GatewayError && error.status === 502,
  );
  const streamed = chatToMessages.exchange(clientBody({ ...CHAT, stream: true }), 0);
  const answer = await streamed.answer(
    new UpstreamAnswer(
      200,
      "",
      [["content-type", "text/event-stream"]],
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode('data: {"type":"message_stop"}\n\n'));
          controller.close();
        },
      }),
    ),
  );
  assert.equal(answer.header("content-type"), "text/event-stream");
  assert.match(await answer.text(), /"finish_reason":"stop".*data: \[DONE\]\n\n$/s);
});
