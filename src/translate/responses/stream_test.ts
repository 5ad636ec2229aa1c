import assert from "node:assert/strict";
import type { ResponseContext } from "./_response.ts";
import { chatStreamToResponses } from "./stream.ts";

const CONTEXT: ResponseContext = { id: "resp_test", createdAt: 1, model: "m", echo: {} };
const encoder = new TextEncoder();

/** A source that hands out `pieces` one read at a time. */
function source(pieces: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      const piece = pieces[next++];
      if (piece !== undefined) {
        controller.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece);
      } else {
        controller.close();
      }
    },
  });
}

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  return `data: ${
    JSON.stringify({ model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })
  }\n\n`;
}

async function eventsOf(body: ReadableStream<Uint8Array>) {
  const text = await new Response(body).text();
  return text.split("\n\n").filter((block) => block !== "").map((block) => {
    const [eventLine, dataLine] = block.split("\n");
    return { event: eventLine!.slice("event: ".length), data: JSON.parse(dataLine!.slice(6)) };
  });
}

Deno.test("events split anywhere between reads are translated whole", async () => {
  const whole = chunk({ content: "Hé" }) + chunk({ content: "llo" }, "stop") + "data: [DONE]\n\n";
  const bytes = encoder.encode(whole);
  // Cut in the middle of the two-byte "é" and inside the event lines.
  const pieces = [bytes.slice(0, 40), bytes.slice(40, 41), bytes.slice(41)];
  const stream = chatStreamToResponses(source(pieces), CONTEXT);
  const events = await eventsOf(stream.body);
  const deltas = events.filter((event) => event.event === "response.output_text.delta");
  assert.deepEqual(deltas.map((event) => event.data.delta), ["Hé", "llo"]);
  assert.equal(events.at(-1)!.event, "response.completed");
});

Deno.test("a stream that stopped after its finish lacks only [DONE]: it completes", async () => {
  const stream = chatStreamToResponses(source([chunk({ content: "Hi" }, "length")]), CONTEXT);
  const events = await eventsOf(stream.body);
  assert.equal(events.at(-1)!.event, "response.incomplete");
  assert.deepEqual(events.at(-1)!.data.response.incomplete_details, {
    reason: "max_output_tokens",
  });
  assert.equal(events.at(-1)!.data.response.output[0].status, "incomplete");
});

Deno.test("a backend's error as the first event is the only event: nothing was announced", async () => {
  const stream = chatStreamToResponses(
    source(['data: {"error":{"message":"busy","code":503}}\n\n']),
    CONTEXT,
  );
  const events = await eventsOf(stream.body);
  assert.deepEqual(events, [{
    event: "error",
    data: { type: "error", code: "503", message: "busy", param: null, sequence_number: 0 },
  }]);
});

Deno.test("a stream that breaks fails, and its farewell goes on numbering", async () => {
  const stream = chatStreamToResponses(source([chunk({ content: "Hi" })]), CONTEXT);
  const reader = stream.body.getReader();
  const first = await reader.read();
  assert.ok(!first.done);
  await assert.rejects(reader.read(), /ended the stream early/);
  const farewell = new TextDecoder().decode(
    stream.farewell({ code: "upstream_broken_stream", message: "broke off" }),
  );
  const events = farewell.split("\n\n").filter(Boolean).map((block) =>
    JSON.parse(block.split("\n")[1]!.slice(6))
  );
  assert.deepEqual(events.map((event) => [event.type, event.sequence_number]), [
    ["error", 5],
    ["response.failed", 6],
  ]);
  assert.equal(events[1].response.output[0].content[0].text, "Hi");
});

Deno.test("a refusal streams as its own content part of the message", async () => {
  const stream = chatStreamToResponses(
    source([chunk({ refusal: "I can" }), chunk({ refusal: "not" }, "stop"), "data: [DONE]\n\n"]),
    CONTEXT,
  );
  const events = await eventsOf(stream.body);
  assert.deepEqual(events.map((event) => event.event), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.refusal.delta",
    "response.refusal.delta",
    "response.refusal.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  assert.equal(events[6]!.data.refusal, "I cannot");
  assert.deepEqual(events.at(-1)!.data.response.output[0].content, [
    { type: "refusal", refusal: "I cannot" },
  ]);
});

Deno.test("an answer with nothing in it is an empty message, as a whole answer is", async () => {
  const stream = chatStreamToResponses(
    source([chunk({ role: "assistant", content: "" }, "stop"), "data: [DONE]\n\n"]),
    CONTEXT,
  );
  const events = await eventsOf(stream.body);
  assert.equal(events.some((event) => event.event === "response.output_text.delta"), false);
  assert.deepEqual(events.at(-1)!.data.response.output[0].content, [
    { type: "output_text", text: "", annotations: [], logprobs: [] },
  ]);
});

Deno.test("every snapshot of the response names the backend's model", async () => {
  const stream = chatStreamToResponses(
    source([
      `data: ${
        JSON.stringify({ model: "served", choices: [{ index: 0, delta: { content: "Hi" } }] })
      }\n\n`,
      "data: [DONE]\n\n",
    ]),
    CONTEXT,
  );
  const events = await eventsOf(stream.body);
  const models = events.filter((event) => event.data.response).map((event) =>
    event.data.response.model
  );
  assert.deepEqual(models, ["served", "served", "served"]);
});
