/**
 * The transport conformance suite: every raw backend answer of the corpus, over every way the
 * gateway reaches a backend, with what the client sees and the counters afterwards.
 */
import assert from "node:assert/strict";
import { ANSWER_CASES, type AnswerCase } from "./fixtures/backend_answers.ts";
import { BACKEND_ROUTES } from "./fixtures/backend_routes.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

const SERVICES = {
  chat: { service: "chat", status: "/v1/chat/status" },
  stream: { service: "chat", status: "/v1/chat/status" },
  upload: { service: "stt", status: "/v1/audio/transcriptions/status" },
} as const;

function send(gatewayUrl: string, request: AnswerCase["request"]): Promise<Response> {
  if (request === "upload") {
    const form = new FormData();
    form.set("model", "m");
    form.set("file", new Blob([new Uint8Array(16 * 1024 * 1024)]), "speech.wav");
    return fetch(`${gatewayUrl}/v1/audio/transcriptions`, { method: "POST", body: form });
  }
  return postChat(gatewayUrl, request === "stream" ? { stream: true } : {});
}

async function check(response: Response, expect: AnswerCase["expect"]): Promise<void> {
  const body = await response.text();
  assert.equal(response.status, expect.status, body);
  if (expect.body !== undefined) assert.equal(body, expect.body);
  if (expect.code !== undefined) assert.equal(JSON.parse(body).error.code, expect.code);
}

for (const route of BACKEND_ROUTES) {
  for (const [name, answerCase] of Object.entries(ANSWER_CASES)) {
    Deno.test(`${route.name}: ${name}`, async () => {
      const { service, status } = SERVICES[answerCase.request ?? "chat"];
      await using setup = route.setUp();
      await using backend = startScriptedServer(answerCase.backend, { tls: route.tls });
      const timeouts = answerCase.timeouts ? `  timeouts: ${answerCase.timeouts}\n` : "";
      await using gateway = await startGateway(
        `server:\n  retries: 0\n  max-body-size: 64MiB\n${timeouts}` +
          `model:\n  services:\n    ${service}:\n      instances:\n` +
          `        - name: m\n          base-url: ${backend.url}\n`,
        setup.gateway,
      );
      const times = answerCase.times ?? 1;
      if (answerCase.concurrent) {
        const responses = await Promise.all(
          Array.from({ length: times }, () => send(gateway.url, answerCase.request)),
        );
        for (const response of responses) await check(response, answerCase.expect);
      } else {
        for (let round = 0; round < times; round++) {
          await check(await send(gateway.url, answerCase.request), answerCase.expect);
        }
      }
      const [instance] = (await serviceStatus(gateway.url, status)).instances;
      assert.equal(instance?.activeRequests, 0, "nothing stays in flight");
      assert.equal(instance?.failures, answerCase.after.failures, "failures");
      assert.equal(backend.heads.length, answerCase.after.requests ?? times, "requests read");
      if (answerCase.after.connections !== undefined) {
        assert.equal(backend.connections, answerCase.after.connections, "connections");
      }
    });
  }
}
