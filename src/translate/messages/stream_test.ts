import assert from "node:assert/strict";
import { chatSseToMessages } from "./stream.ts";

const CONTEXT = { id: "msg_1", model: "m", stopSequences: [] };
const encoder = new TextEncoder();

/** A chat SSE stream of `chunks`, each one event, then `[DONE]` unless `done` is false. */
function chatStream(
  chunks: readonly unknown[],
  options: { done?: boolean; breakOff?: boolean } = {},
): ReadableStream<Uint8Array> {
  const events = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`);
  if (options.done ?? true) events.push("data: [DONE]\n\n");
  return new ReadableStream({
    start(controller) {
      for (const event of events) controller.enqueue(encoder.encode(event));
      if (options.breakOff) controller.error(new Error("connection reset"));
      else controller.close();
    },
  });
}

/** The events of a translated stream, as `[event name, data]`. */
async function eventsOf(stream: ReadableStream<Uint8Array>): Promise<[string, unknown][]> {
  const text = await new Response(stream).text();
  return text.trim().split("\n\n").map((block) => {
    const [event, data] = block.split("\n");
    return [event!.slice("event: ".length), JSON.parse(data!.slice("data: ".length))];
  });
}

const delta = (fields: Record<string, unknown>, finish: string | null = null) => ({
  id: "c",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta: fields, finish_reason: finish }],
});

Deno.test("text deltas become one text block, usage ends in message_delta", async () => {
  const events = await eventsOf(chatSseToMessages(
    chatStream([
      delta({ role: "assistant", content: "" }),
      delta({ content: "Hel" }),
      delta({ content: "lo" }),
      delta({}, "stop"),
      { id: "c", choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } },
    ]),
    CONTEXT,
  ));
  assert.deepEqual(events, [
    ["message_start", {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "m",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    }],
    ["ping", { type: "ping" }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Hel" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "lo" },
    }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 7, output_tokens: 2 },
    }],
    ["message_stop", { type: "message_stop" }],
  ]);
});

Deno.test("reasoning, then text, then tool calls each get a block of their own", async () => {
  const events = await eventsOf(chatSseToMessages(
    chatStream([
      delta({ reasoning_content: "Think" }),
      delta({ content: "Sure." }),
      delta({
        tool_calls: [{
          index: 0,
          id: "call_1",
          type: "function",
          function: { name: "weather", arguments: "" },
        }],
      }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      delta({
        tool_calls: [{ index: 1, id: "call_2", function: { name: "time", arguments: "{}" } }],
      }),
      delta({}, "tool_calls"),
    ]),
    CONTEXT,
  ));
  const names = events.map(([name]) => name);
  assert.deepEqual(names, [
    "message_start",
    "ping",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_delta",
    "content_block_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  assert.deepEqual(events[2]![1], {
    type: "content_block_start",
    index: 0,
    content_block: { type: "thinking", thinking: "", signature: "" },
  });
  assert.deepEqual(events[8]![1], {
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "call_1", name: "weather", input: {} },
  });
  assert.deepEqual(events[10]![1], {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: '"Paris"}' },
  });
  assert.deepEqual(
    (events[15]![1] as { delta: unknown }).delta,
    { stop_reason: "tool_use", stop_sequence: null },
  );
});

Deno.test("a backend's error event ends the stream with an Anthropic error event", async () => {
  const events = await eventsOf(chatSseToMessages(
    chatStream([delta({ content: "Hi" }), { error: { message: "out of memory", code: 500 } }], {
      done: false,
    }),
    CONTEXT,
  ));
  assert.deepEqual(events.at(-1), [
    "error",
    { type: "error", error: { type: "api_error", message: "out of memory" } },
  ]);
});

Deno.test("a stream that ends before it finished ends with an error event", async () => {
  const events = await eventsOf(
    chatSseToMessages(chatStream([delta({ content: "Hi" })], { done: false }), CONTEXT),
  );
  assert.equal(events.at(-1)![0], "error");
});

Deno.test("a stream that breaks off errors the translated stream", async () => {
  const stream = chatSseToMessages(
    chatStream([delta({ content: "Hi" })], { done: false, breakOff: true }),
    CONTEXT,
  );
  await assert.rejects(new Response(stream).text(), /connection reset/);
});
