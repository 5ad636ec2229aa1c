/**
 * Checks that a target answers like the fake backend before it is measured, so that a fast
 * stream of errors is never reported as throughput.
 * @module
 */
import { CHUNKS } from "./fake_backend.ts";
import { STREAM_REQUEST } from "./_ttfb.ts";

const JSON_REQUEST = JSON.stringify({
  model: "bench-model",
  messages: [{ role: "user", content: "Say hello" }],
});

/** Throws unless `url` answers a completion and a whole stream of {@linkcode CHUNKS} chunks. */
export async function checkTarget(name: string, url: string): Promise<void> {
  const post = (body: string) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });

  const plain = await post(JSON_REQUEST);
  const text = await plain.text();
  if (plain.status !== 200 || !text.includes('"chat.completion"')) {
    throw new Error(`Cannot bench ${name}: a completion answered ${plain.status} ${text}`);
  }

  const streamed = await post(STREAM_REQUEST);
  const events = (await streamed.text()).split("\n\n").filter((event) => event.length > 0);
  const contentType = streamed.headers.get("content-type") ?? "";
  if (
    streamed.status !== 200 || !contentType.startsWith("text/event-stream") ||
    events.length !== CHUNKS + 1 || events.at(-1) !== "data: [DONE]"
  ) {
    throw new Error(
      `Cannot bench ${name}: a stream answered ${streamed.status} (${contentType}) with ` +
        `${events.length} events, expected ${CHUNKS + 1} ending in "data: [DONE]"`,
    );
  }
}
