import assert from "node:assert/strict";
import { messagesStreamToChatStream, type StreamTranslation } from "./chat_to_messages_stream.ts";

const OPTIONS: StreamTranslation = {
  id: "chatcmpl-1",
  created: 1700000000,
  model: "asked",
  includeUsage: false,
};

function sse(events: readonly Record<string, unknown>[]): string {
  return events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join(
    "",
  );
}

/** A source handing out `chunks` one read at a time, noting whether it was cancelled. */
function source(chunks: readonly string[]) {
  const encoder = new TextEncoder();
  let next = 0;
  const state = { cancelled: false, reads: 0 };
  return {
    state,
    read: () => {
      state.reads++;
      const chunk = chunks[next++];
      const result: ReadableStreamReadResult<Uint8Array> = chunk === undefined
        ? { done: true }
        : { done: false, value: encoder.encode(chunk) };
      return Promise.resolve(result);
    },
    cancel: () => {
      state.cancelled = true;
      return Promise.resolve();
    },
  };
}

/** The `data:` payloads of a translated stream, JSON parsed but for `[DONE]`. */
async function events(stream: ReadableStream<Uint8Array>): Promise<unknown[]> {
  const text = await new Response(stream).text();
  return text.split("\n\n").filter((block) => block !== "").map((block) => {
    assert.match(block, /^data: /);
    const data = block.slice("data: ".length);
    return data === "[DONE]" ? data : JSON.parse(data);
  });
}

const START = {
  type: "message_start",
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content: [],
    stop_reason: null,
    usage: { input_tokens: 12, output_tokens: 1 },
  },
};

const TEXT_STREAM = [
  START,
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "ping" },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } },
  { type: "message_stop" },
];

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "claude-x",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  };
}

Deno.test("text: role first, content deltas, the finish reason, then [DONE]; ping ignored", async () => {
  assert.deepEqual(await events(messagesStreamToChatStream(source([sse(TEXT_STREAM)]), OPTIONS)), [
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({}, "stop"),
    "[DONE]",
  ]);
});

Deno.test("events split anywhere across reads translate the same", async () => {
  const text = sse(TEXT_STREAM);
  const pieces = [...text.match(/[\s\S]{1,7}/g)!];
  assert.deepEqual(
    await events(messagesStreamToChatStream(source(pieces), OPTIONS)),
    await events(messagesStreamToChatStream(source([text]), OPTIONS)),
  );
});

Deno.test("usage comes in a last chunk when asked for, and every chunk has usage null", async () => {
  const out = await events(
    messagesStreamToChatStream(source([sse(TEXT_STREAM)]), { ...OPTIONS, includeUsage: true }),
  );
  assert.equal(out.at(-1), "[DONE]");
  assert.deepEqual(out.at(-2), {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "claude-x",
    choices: [],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  });
  for (const event of out.slice(0, -2)) assert.equal((event as { usage: unknown }).usage, null);
});

Deno.test("tool calls: index, id and name first, then argument fragments", async () => {
  const stream = sse([
    START,
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking." } },
    { type: "content_block_stop", index: 0 },
    {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "toolu_1", name: "weather", input: {} },
    },
    {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: "" },
    },
    {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '{"city":' },
    },
    {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '"Paris"}' },
    },
    { type: "content_block_stop", index: 1 },
    {
      type: "content_block_start",
      index: 2,
      content_block: { type: "tool_use", id: "toolu_2", name: "now", input: {} },
    },
    { type: "content_block_stop", index: 2 },
    { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 30 } },
    { type: "message_stop" },
  ]);
  assert.deepEqual(await events(messagesStreamToChatStream(source([stream]), OPTIONS)), [
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Checking." }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "toolu_1",
        type: "function",
        function: { name: "weather", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({
      tool_calls: [{
        index: 1,
        id: "toolu_2",
        type: "function",
        function: { name: "now", arguments: "" },
      }],
    }),
    chunk({}, "tool_calls"),
    "[DONE]",
  ]);
});

Deno.test("an error event ends the stream with the gateway's error event", async () => {
  const from = source([
    sse([START, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }]),
    sse(TEXT_STREAM),
  ]);
  assert.deepEqual(await events(messagesStreamToChatStream(from, OPTIONS)), [{
    error: {
      message: "Overloaded",
      type: "upstream_error",
      param: null,
      code: "overloaded_error",
    },
  }]);
  assert.equal(from.state.cancelled, true);
});

Deno.test("a stream that ends before message_stop ends with an error event", async () => {
  const out = await events(
    messagesStreamToChatStream(source([sse(TEXT_STREAM.slice(0, 4))]), OPTIONS),
  );
  assert.deepEqual(out.slice(0, 2), [
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
  ]);
  assert.deepEqual(out[2], {
    error: {
      message: "The backend ended the stream early",
      type: "upstream_error",
      param: null,
      code: "backend_error",
    },
  });
  assert.equal(out.length, 3);
});

Deno.test("an unreadable event is an error; an unknown event type is skipped", async () => {
  const unknown = sse([START, { type: "future_event", x: 1 }, ...TEXT_STREAM.slice(1)]);
  const known = await events(messagesStreamToChatStream(source([sse(TEXT_STREAM)]), OPTIONS));
  assert.deepEqual(await events(messagesStreamToChatStream(source([unknown]), OPTIONS)), known);
  const broken = await events(
    messagesStreamToChatStream(source([sse([START]) + "data: {not json\n\n"]), OPTIONS),
  );
  assert.equal(broken.length, 1);
  assert.equal((broken[0] as { error: { code: string } }).error.code, "bad_upstream_response");
});

Deno.test("the source is read only as fast as the translation is", async () => {
  const text = sse(TEXT_STREAM);
  const from = source(text.split("\n\n").map((block) => `${block}\n\n`));
  const reader = messagesStreamToChatStream(from, OPTIONS).getReader();
  await reader.read();
  // message_start, then content_block_start which gives the role chunk.
  assert.equal(from.state.reads, 2);
  await reader.cancel();
  assert.equal(from.state.cancelled, true);
});
