import assert from "node:assert/strict";
import { ndjsonToSse } from "./stream.ts";
import type { StreamTranslation } from "./types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A source that hands out the given chunks one per pull, then ends or fails. */
function source(chunks: (string | Uint8Array)[], options: { fail?: Error } = {}) {
  let cancelled: { reason: unknown } | undefined;
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      const next = chunks.shift();
      if (next !== undefined) {
        controller.enqueue(typeof next === "string" ? encoder.encode(next) : next);
      } else if (options.fail) controller.error(options.fail);
      else controller.close();
    },
    cancel(reason) {
      cancelled = { reason };
    },
  }, { highWaterMark: 0 });
  return { stream, cancelled: () => cancelled, pulls: () => pulls };
}

const chatOptions: StreamTranslation = {
  kind: "chat",
  id: "chatcmpl-abc123",
  created: 1700000000,
  model: "asked",
  includeUsage: false,
};
const generateOptions: StreamTranslation = { ...chatOptions, kind: "generate", id: "cmpl-9" };

const line = (value: unknown) => `${JSON.stringify(value)}\n`;
const sse = (...events: unknown[]) =>
  events.map((event) => `data: ${event === "[DONE]" ? event : JSON.stringify(event)}\n\n`).join("");

const chatLine = (content: string, extra: Record<string, unknown> = {}) =>
  line({
    model: "llama3",
    created_at: "2024-01-01T00:00:00Z",
    message: { role: "assistant", content, ...extra },
    done: false,
  });
const chatDone = (fields: Record<string, unknown> = {}) =>
  line({
    model: "llama3",
    created_at: "2024-01-01T00:00:01Z",
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: "stop",
    total_duration: 10,
    prompt_eval_count: 7,
    eval_count: 3,
    ...fields,
  });

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: "chatcmpl-abc123",
    object: "chat.completion.chunk",
    created: 1700000000,
    model: "llama3",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  };
}

const backendError = (message: string) => ({
  error: { message, type: "upstream_error", param: null, code: "backend_error" },
});

/** Splits a string into pieces of `size` characters. */
function pieces(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

Deno.test("ndjsonToSse translates a chat stream, lines split and shared across chunks", async () => {
  const ndjson = chatLine("Hel") + chatLine("lo") + chatLine("!") + chatDone();
  const expected = sse(
    chunk({ role: "assistant", content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({ content: "!" }),
    chunk({}, "stop"),
    "[DONE]",
  );
  for (const size of [1, 7, 50, ndjson.length]) {
    const { stream } = source(pieces(ndjson, size));
    assert.equal(await new Response(ndjsonToSse(stream, chatOptions)).text(), expected, `${size}`);
  }
});

Deno.test("ndjsonToSse reports usage at the end when asked, and null before", async () => {
  const { stream } = source([chatLine("Hi") + chatDone()]);
  const text = await new Response(ndjsonToSse(stream, { ...chatOptions, includeUsage: true }))
    .text();
  assert.equal(
    text,
    sse(
      { ...chunk({ role: "assistant", content: "Hi" }), usage: null },
      { ...chunk({}, "stop"), usage: null },
      {
        id: "chatcmpl-abc123",
        object: "chat.completion.chunk",
        created: 1700000000,
        model: "llama3",
        choices: [],
        usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
      },
      "[DONE]",
    ),
  );
});

Deno.test("ndjsonToSse keeps a character split across chunks whole", async () => {
  const bytes = encoder.encode(chatLine("héllo 👋") + chatDone());
  const split = bytes.indexOf(0xf0) + 2;
  const { stream } = source([bytes.slice(0, 3), bytes.slice(3, split), bytes.slice(split)]);
  assert.equal(
    await new Response(ndjsonToSse(stream, chatOptions)).text(),
    sse(chunk({ role: "assistant", content: "héllo 👋" }), chunk({}, "stop"), "[DONE]"),
  );
});

Deno.test("ndjsonToSse emits each event as soon as its line is complete", async () => {
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
  const reader = ndjsonToSse(stream, chatOptions).getReader();
  const first = chatLine("One");
  feed.enqueue(encoder.encode(first + chatLine("Two").slice(0, 10)));
  assert.equal(
    decoder.decode((await reader.read()).value),
    sse(chunk({ role: "assistant", content: "One" })),
  );
  feed.enqueue(encoder.encode(chatLine("Two").slice(10)));
  assert.equal(decoder.decode((await reader.read()).value), sse(chunk({ content: "Two" })));
  feed.enqueue(encoder.encode(chatDone()));
  assert.equal(decoder.decode((await reader.read()).value), sse(chunk({}, "stop")));
  assert.equal(decoder.decode((await reader.read()).value), "data: [DONE]\n\n");
  assert.equal((await reader.read()).done, true);
});

Deno.test("ndjsonToSse reads the source only as fast as it is read", async () => {
  const { stream, pulls } = source([chatLine("a"), chatLine("b"), chatLine("c"), chatDone()]);
  const reader = ndjsonToSse(stream, chatOptions).getReader();
  await reader.read();
  assert.equal(pulls(), 1);
  await reader.read();
  assert.equal(pulls(), 2);
  await reader.cancel();
});

Deno.test("ndjsonToSse carries thinking and tool calls, and ends with tool_calls", async () => {
  const { stream } = source([
    chatLine("", { thinking: "Need the weather" }),
    chatLine("", {
      tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }],
    }),
    chatLine("", {
      tool_calls: [
        { function: { name: "get_time", arguments: {} } },
        { id: "own", function: { name: "get_date", arguments: null } },
      ],
    }),
    chatDone(),
  ]);
  const call = (index: number, id: string, name: string, args: string) => ({
    index,
    id,
    type: "function",
    function: { name, arguments: args },
  });
  assert.equal(
    await new Response(ndjsonToSse(stream, chatOptions)).text(),
    sse(
      chunk({ role: "assistant", content: "", reasoning_content: "Need the weather" }),
      chunk({ tool_calls: [call(0, "call_0_abc123", "get_weather", '{"city":"Paris"}')] }),
      chunk({
        tool_calls: [
          call(1, "call_1_abc123", "get_time", "{}"),
          call(2, "own", "get_date", "{}"),
        ],
      }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ),
  );
});

Deno.test("ndjsonToSse skips lines that add nothing, and ends with the last content", async () => {
  const { stream } = source([
    chatLine("A"),
    chatLine(""),
    chatDone({ message: { role: "assistant", content: "Z" }, done_reason: "length" }),
  ]);
  assert.equal(
    await new Response(ndjsonToSse(stream, chatOptions)).text(),
    sse(chunk({ role: "assistant", content: "A" }), chunk({ content: "Z" }, "length"), "[DONE]"),
  );
});

Deno.test("ndjsonToSse answers an empty chat with one whole chunk", async () => {
  const { stream } = source([chatDone({ model: undefined })]);
  assert.equal(
    await new Response(ndjsonToSse(stream, chatOptions)).text(),
    sse({ ...chunk({ role: "assistant", content: "" }, "stop"), model: "asked" }, "[DONE]"),
  );
});

Deno.test("ndjsonToSse tolerates blank lines, CRLF and a last line without newline", async () => {
  const ndjson = `\n${chatLine("x").replace("\n", "\r\n")}\n\n${chatDone().trimEnd()}`;
  const { stream } = source([ndjson]);
  assert.equal(
    await new Response(ndjsonToSse(stream, chatOptions)).text(),
    sse(chunk({ role: "assistant", content: "x" }), chunk({}, "stop"), "[DONE]"),
  );
});

Deno.test("ndjsonToSse translates a generate stream", async () => {
  const generateLine = (response: string, fields: Record<string, unknown> = {}) =>
    line({ model: "llama3", created_at: "t", response, done: false, ...fields });
  const ndjson = generateLine("Once") + generateLine("") + generateLine(" upon") +
    generateLine("", { thinking: "hmm" }) +
    line({
      model: "llama3",
      response: "",
      done: true,
      done_reason: "length",
      context: [1, 2],
      prompt_eval_count: 2,
      eval_count: 5,
    });
  const completion = (choice: Record<string, unknown>) => ({
    id: "cmpl-9",
    object: "text_completion",
    created: 1700000000,
    model: "llama3",
    choices: [{ index: 0, ...choice }],
  });
  const expected = [
    completion({ text: "Once", finish_reason: null, logprobs: null }),
    completion({ text: " upon", finish_reason: null, logprobs: null }),
    completion({ text: "", reasoning_content: "hmm", finish_reason: null, logprobs: null }),
    completion({ text: "", finish_reason: "length", logprobs: null }),
  ];
  const plain = source(pieces(ndjson, 13));
  assert.equal(
    await new Response(ndjsonToSse(plain.stream, generateOptions)).text(),
    sse(...expected, "[DONE]"),
  );
  const counted = source([ndjson]);
  assert.equal(
    await new Response(ndjsonToSse(counted.stream, { ...generateOptions, includeUsage: true }))
      .text(),
    sse(
      ...expected.map((event) => ({ ...event, usage: null })),
      {
        id: "cmpl-9",
        object: "text_completion",
        created: 1700000000,
        model: "llama3",
        choices: [],
        usage: { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 },
      },
      "[DONE]",
    ),
  );
});

Deno.test("ndjsonToSse ends with an error event on Ollama's error line", async () => {
  const { stream, cancelled } = source([
    chatLine("Hi") + line({ error: "out of memory" }) + chatLine("never"),
    chatDone(),
  ]);
  assert.equal(
    await new Response(ndjsonToSse(stream, chatOptions)).text(),
    sse(chunk({ role: "assistant", content: "Hi" }), backendError("out of memory")),
  );
  assert.ok(cancelled(), "the rest of the source is let go");
});

Deno.test("ndjsonToSse ends with an error event on a line that is not JSON", async () => {
  const { stream } = source([chatLine("Hi"), "<html>Bad gateway</html>\n", chatDone()]);
  const text = await new Response(ndjsonToSse(stream, chatOptions)).text();
  assert.equal(
    text,
    sse(
      chunk({ role: "assistant", content: "Hi" }),
      backendError('The backend sent a line that is not JSON: "<html>Bad gateway</html>"'),
    ),
  );
});

Deno.test("ndjsonToSse ends with an error event on a line of the wrong shape", async () => {
  const { stream } = source([line({ choices: [] })]);
  const text = await new Response(ndjsonToSse(stream, chatOptions)).text();
  const [event] = text.split("\n\n");
  const body = JSON.parse(event!.slice("data: ".length));
  assert.equal(body.error.code, "backend_error");
  assert.match(body.error.message, /"message" to be an object/);
  assert.equal(text.endsWith("[DONE]\n\n"), false);
});

Deno.test("ndjsonToSse ends with an error event when the backend stops early", async () => {
  const early = source([chatLine("Hi")]);
  assert.equal(
    await new Response(ndjsonToSse(early.stream, chatOptions)).text(),
    sse(
      chunk({ role: "assistant", content: "Hi" }),
      backendError("The backend ended the stream early"),
    ),
  );
  const cut = source([chatLine("Hi") + '{"model":"llama3","mess']);
  assert.equal(
    await new Response(ndjsonToSse(cut.stream, chatOptions)).text(),
    sse(
      chunk({ role: "assistant", content: "Hi" }),
      backendError('The backend sent a line that is not JSON: "{\\"model\\":\\"llama3\\",\\"mess"'),
    ),
  );
  const empty = source([]);
  assert.equal(
    await new Response(ndjsonToSse(empty.stream, generateOptions)).text(),
    sse(backendError("The backend ended the stream early")),
  );
});

Deno.test("ndjsonToSse fails when the source fails", async () => {
  const reset = new Error("connection reset");
  const { stream } = source([chatLine("Hi")], { fail: reset });
  const reader = ndjsonToSse(stream, chatOptions).getReader();
  assert.equal(
    decoder.decode((await reader.read()).value),
    sse(chunk({ role: "assistant", content: "Hi" })),
  );
  await assert.rejects(reader.read(), (error) => error === reset);
});

Deno.test("ndjsonToSse cancels the source when it is cancelled", async () => {
  const { stream, cancelled } = source([chatLine("a"), chatLine("b"), chatDone()]);
  const reader = ndjsonToSse(stream, chatOptions).getReader();
  await reader.read();
  assert.equal(cancelled(), undefined);
  await reader.cancel("client left");
  assert.deepEqual(cancelled(), { reason: "client left" });
});

Deno.test("ndjsonToSse cancels the source while waiting on it", async () => {
  let cancelledWith: unknown;
  const stalled = new ReadableStream<Uint8Array>({
    pull: () => new Promise(() => {}),
    cancel: (reason) => void (cancelledWith = reason),
  });
  const reader = ndjsonToSse(stalled, chatOptions).getReader();
  const pending = reader.read();
  await reader.cancel("client left");
  assert.equal(cancelledWith, "client left");
  assert.equal((await pending).done, true);
});
