/**
 * Prompt and answer text in request lines: never without `log.bodies`; with it, the first
 * `log.body-bytes` of each body, masked by `log.mask`.
 */
import assert from "node:assert/strict";
import { Logger } from "../src/logging/logger.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { LogLines } from "./fixtures/log_lines.ts";

const PROMPT = "Write to ada@example.com about card 4111 1111 1111 1111 and key sk-abcdef123456";

function config(url: string, log: string): string {
  return `log:\n${log}model:\n  services:\n    chat:\n      instances:\n` +
    `        - name: m\n          base-url: ${url}\n`;
}

async function requestLines(
  log: string,
  stream: boolean,
): Promise<Record<string, unknown>[]> {
  const output = new LogLines();
  const logger = new Logger({ level: "info", format: "json", output });
  await using backend = await startFakeBackend({
    name: "b1",
    stream: { tokens: ["Hi", " there"] },
  });
  await using gateway = await startGateway(config(backend.url, log), { logger });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: PROMPT }] }),
  });
  assert.equal(response.status, 200);
  await response.text();
  return await eventually(() => {
    const lines = output.lines.map((line) => JSON.parse(line))
      .filter((line) => line.request_id !== undefined);
    assert.equal(lines.length, 1);
    return Promise.resolve(lines);
  }, 2000);
}

Deno.test("without log.bodies, no prompt or answer text is logged", async () => {
  const [line] = await requestLines("  requests: true\n", false);
  const text = JSON.stringify(line);
  assert.equal(line!.request_body, undefined);
  assert.equal(line!.response_body, undefined);
  assert.ok(!text.includes("ada@example.com"));
  assert.ok(!text.includes("hello from"));
});

Deno.test("with log.bodies, both bodies are logged, masked", async () => {
  const [line] = await requestLines("  bodies: true\n", false);
  const request = line!.request_body as string;
  assert.match(request, /Write to \[masked\] about card \[masked\] and key \[masked\]/);
  assert.ok(!request.includes("ada@example.com"));
  assert.ok(!request.includes("4111"));
  assert.match(line!.response_body as string, /"content":"hello from b1"/);
});

Deno.test("a streamed answer is logged as it went by; a long body is cut with a note", async () => {
  const [line] = await requestLines("  bodies: true\n  body-bytes: 40\n  mask: [there]\n", true);
  const request = line!.request_body as string;
  assert.equal(request, '{"model":"m","stream":true,"messages":[{ […108 more bytes]');
  // Only the configured pattern is masked now: the email is kept.
  const full = await requestLines("  bodies: true\n  mask: [there]\n", true);
  assert.match(full[0]!.request_body as string, /ada@example\.com/);
  const answer = full[0]!.response_body as string;
  assert.match(answer, /data: /);
  assert.match(answer, /"content":"Hi"/);
  assert.match(answer, /"content":" \[masked\]"/);
});

Deno.test("a mask that is not a regular expression is a config error", async () => {
  await assert.rejects(
    startGateway(config("http://127.0.0.1:9", "  bodies: true\n  mask: ['(unclosed']\n")),
    /log\.mask\[0\] \(line 3\): Not a valid regular expression/,
  );
});
