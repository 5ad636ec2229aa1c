/**
 * The Anthropic Messages and OpenAI Responses APIs against a real llama.cpp `llama-server`,
 * which serves both itself: through a `llamacpp` instance the gateway's answers are the server's
 * own, byte for byte apart from ids, timestamps and timings; through a `normal` instance (a
 * server that speaks only chat, as far as the gateway knows) both APIs are translated to chat,
 * and the official SDKs get the same text the server's chat answer has. Greedy sampling on a
 * tiny random-weight model: the same prompt gives the same tokens whichever API asks.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import {
  bothAnswers,
  comparable,
  type GatewayOverLlamaServer,
  gatewayOverLlamaServer,
  LLAMA_MODEL,
  llamaServerConfig,
  llamaServerTest,
} from "./fixtures/llama_server.ts";

const PROMPT = "Name three rivers.";
const MAX_TOKENS = 16;
const GREEDY = { temperature: 0, seed: 7, cache_prompt: false };

const WEATHER = {
  name: "weather",
  description: "The weather in a city",
  parameters: {
    type: "object" as const,
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

/** The text of the server's own chat answer to the prompt, asked directly. */
async function chatText(running: GatewayOverLlamaServer): Promise<string> {
  const response = await fetch(`${running.server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: LLAMA_MODEL,
      messages: [{ role: "user", content: PROMPT }],
      max_tokens: MAX_TOKENS,
      ...GREEDY,
    }),
  });
  const text = (await response.json()).choices[0].message.content;
  assert.equal(typeof text, "string");
  assert.ok(text.length > 0);
  return text;
}

function messagesBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: LLAMA_MODEL,
    max_tokens: MAX_TOKENS,
    messages: [{ role: "user", content: PROMPT }],
    ...GREEDY,
    ...extra,
  });
}

function responsesBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: LLAMA_MODEL,
    max_output_tokens: MAX_TOKENS,
    input: PROMPT,
    ...GREEDY,
    ...extra,
  });
}

const events = (text: string) => sameCache(comparable(text)).split("\n\n").filter(Boolean);

/**
 * Anthropic usage with the input tokens the server's prompt cache served added back to the
 * input tokens: the server keeps its cache across the two requests compared, whatever they ask.
 */
function sameCache(text: string): string {
  return text.replaceAll(
    /"cache_read_input_tokens":(\d+),"input_tokens":(\d+)/g,
    (_, cached, input) => `"input_tokens":${Number(cached) + Number(input)}`,
  );
}

llamaServerTest("a Messages answer, streamed or not, is the server's own", async (build) => {
  await using running = await gatewayOverLlamaServer(build);
  const whole = await bothAnswers(running, "/v1/messages", messagesBody());
  assert.equal(JSON.parse(whole.direct).type, "message", whole.direct);
  assert.equal(sameCache(comparable(whole.proxied)), sameCache(comparable(whole.direct)));

  const streamed = await bothAnswers(running, "/v1/messages", messagesBody({ stream: true }));
  assert.match(streamed.direct, /event: message_stop/);
  assert.deepEqual(events(streamed.proxied), events(streamed.direct));

  const counted = await bothAnswers(running, "/v1/messages/count_tokens", messagesBody());
  assert.ok(JSON.parse(counted.direct).input_tokens > 0, counted.direct);
  assert.equal(counted.proxied, counted.direct);
});

llamaServerTest("a Responses answer, streamed or not, is the server's own", async (build) => {
  await using running = await gatewayOverLlamaServer(build);
  const whole = await bothAnswers(running, "/v1/responses", responsesBody());
  assert.equal(JSON.parse(whole.direct).object, "response", whole.direct);
  assert.equal(comparable(whole.proxied), comparable(whole.direct));

  const streamed = await bothAnswers(running, "/v1/responses", responsesBody({ stream: true }));
  assert.match(streamed.direct, /response\.completed/);
  assert.deepEqual(events(streamed.proxied), events(streamed.direct));
});

for (const adapter of ["llamacpp", "normal"] as const) {
  const how = adapter === "llamacpp" ? "served by the server itself" : "translated to chat";
  const config = (url: string) => llamaServerConfig(url, adapter);

  llamaServerTest(`the Anthropic SDK, ${how}, streamed or not, with tools`, async (build) => {
    await using running = await gatewayOverLlamaServer(build, { config });
    const expected = await chatText(running);
    const client = new Anthropic({
      baseURL: running.gateway.url,
      apiKey: "unused",
      maxRetries: 0,
    });
    const request = {
      model: LLAMA_MODEL,
      max_tokens: MAX_TOKENS,
      messages: [{ role: "user" as const, content: PROMPT }],
      temperature: 0,
    };
    const message = await client.messages.create(request);
    assert.equal(message.content[0]?.type === "text" && message.content[0].text, expected);
    assert.equal(message.stop_reason, "max_tokens");
    assert.equal(message.usage.output_tokens, MAX_TOKENS);

    const stream = client.messages.stream(request);
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const final = await stream.finalMessage();
    assert.equal(texts.join(""), expected);
    assert.ok(texts.length > 1, "the text arrived in pieces");
    assert.equal(final.stop_reason, "max_tokens");

    // A tool offered and a tool result sent back: the server takes both, and answers.
    const withTools = await client.messages.create({
      ...request,
      tools: [{
        name: WEATHER.name,
        description: WEATHER.description,
        input_schema: WEATHER.parameters,
      }],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "Sunny" }],
        },
      ],
    });
    assert.equal(withTools.type, "message");
    assert.ok(withTools.content.length > 0);
  });

  llamaServerTest(
    `the OpenAI SDK's Responses, ${how}, streamed or not, with tools`,
    async (build) => {
      await using running = await gatewayOverLlamaServer(build, { config });
      const expected = await chatText(running);
      const client = new OpenAI({
        baseURL: `${running.gateway.url}/v1`,
        apiKey: "unused",
        maxRetries: 0,
      });
      const request = {
        model: LLAMA_MODEL,
        input: PROMPT,
        max_output_tokens: MAX_TOKENS,
        temperature: 0,
        store: false,
      };
      const response = await client.responses.create(request);
      assert.equal(response.output_text, expected);
      assert.equal(response.usage?.output_tokens, MAX_TOKENS);

      const stream = await client.responses.create({ ...request, stream: true });
      const deltas: string[] = [];
      // The length limit ends it: `response.incomplete` by OpenAI's rules, as the translation
      // says; llama-server itself says `response.completed`.
      let final: OpenAI.Responses.Response | undefined;
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") deltas.push(event.delta);
        if (event.type === "response.completed" || event.type === "response.incomplete") {
          final = event.response;
        }
      }
      assert.equal(deltas.join(""), expected);
      assert.ok(deltas.length > 1, "the text arrived in pieces");
      assert.equal(outputText(final), expected);

      // A function offered, its call and its output sent back: the server takes them, and answers.
      const withTools = await client.responses.create({
        ...request,
        tools: [{ type: "function", strict: false, ...WEATHER }],
        input: [
          { role: "user", content: "Weather in Paris?" },
          {
            type: "function_call",
            call_id: "call_1",
            name: "weather",
            arguments: '{"city":"Paris"}',
          },
          { type: "function_call_output", call_id: "call_1", output: "Sunny" },
        ],
      });
      assert.equal(withTools.object, "response");
      assert.ok(withTools.output.length > 0);
    },
  );
}

/** The text of a response's message items (a streamed response has no `output_text`). */
function outputText(response: OpenAI.Responses.Response | undefined): string | undefined {
  return response?.output.flatMap((item) =>
    item.type === "message"
      ? item.content.flatMap((part) => part.type === "output_text" ? [part.text] : [])
      : []
  ).join("");
}
