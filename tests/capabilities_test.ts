/**
 * Instance capabilities: a request that carries an image, defines tools, carries audio or needs
 * a long context reaches only instances that can take it, on the chat, Messages and Responses
 * routes; when none can, the gateway refuses it with a 400 that names what is missing. What an
 * instance can take is configured, or learned from vLLM's and llama.cpp's own answers.
 */
import assert from "node:assert/strict";
import { type FakeBackend, startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { startLlamaCpp, startVllm } from "./fixtures/backends/mod.ts";
import { manualSchedule } from "./fixtures/clock.ts";
import { eventually, Gate, within } from "./fixtures/gate.ts";

/** Config YAML for chat instances of model `m`, each with its own `capabilities` YAML. */
function chatInstances(instances: readonly { url: string; capabilities?: string }[]): string {
  const listed = instances.map(({ url, capabilities }) =>
    `        - name: m\n          base-url: ${url}\n` +
    (capabilities ? `          capabilities: ${capabilities}\n` : "")
  ).join("");
  return `model:\n  services:\n    chat:\n      load-balance:\n        type: round-robin\n` +
    `      instances:\n${listed}`;
}

async function post(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const IMAGE = "data:image/png;base64," + "A".repeat(4_000);

const chatImage = {
  model: "m",
  messages: [{
    role: "user",
    content: [
      { type: "text", text: "What is in it?" },
      { type: "image_url", image_url: { url: IMAGE } },
    ],
  }],
};

/** Two backends, the first text only, behind one gateway. */
async function textAndVision(visionCapabilities = "{ vision: true }") {
  const text = await startFakeBackend({ name: "text" });
  const vision = await startFakeBackend({ name: "vision" });
  const gateway = await startGateway(chatInstances([
    { url: text.url, capabilities: "{ vision: false }" },
    { url: vision.url, capabilities: visionCapabilities },
  ]));
  return {
    text,
    vision,
    gateway,
    async [Symbol.asyncDispose]() {
      await gateway.close();
      await text.close();
      await vision.close();
    },
  };
}

function served(...backends: FakeBackend[]): number[] {
  return backends.map((backend) => backend.requests.length);
}

Deno.test("a chat request with an image skips the text-only instance", async () => {
  await using setup = await textAndVision();
  for (let i = 0; i < 4; i++) {
    const answer = await post(setup.gateway.url, "/v1/chat/completions", chatImage);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.backend, "vision");
  }
  assert.deepEqual(served(setup.text, setup.vision), [0, 4]);
  // Text takes turns as before.
  for (let i = 0; i < 2; i++) {
    const answer = await post(setup.gateway.url, "/v1/chat/completions", {
      model: "m",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(answer.status, 200);
  }
  assert.deepEqual(served(setup.text, setup.vision), [1, 5]);
});

Deno.test("an instance whose capabilities are not configured is assumed to take images", async () => {
  await using text = await startFakeBackend({ name: "text" });
  await using unknown = await startFakeBackend({ name: "unknown" });
  await using gateway = await startGateway(chatInstances([
    { url: text.url, capabilities: "{ vision: false }" },
    { url: unknown.url },
  ]));
  for (let i = 0; i < 2; i++) {
    assert.equal((await post(gateway.url, "/v1/chat/completions", chatImage)).status, 200);
  }
  assert.deepEqual(served(text, unknown), [0, 2]);
});

Deno.test("a long prompt, or a short one with a large max_tokens, skips a small context", async () => {
  await using small = await startFakeBackend({ name: "small" });
  await using large = await startFakeBackend({ name: "large" });
  await using gateway = await startGateway(chatInstances([
    { url: small.url, capabilities: "{ context: 1000 }" },
    { url: large.url, capabilities: "{ context: 100000 }" },
  ]));
  const long = {
    model: "m",
    messages: [{ role: "user", content: "word ".repeat(2_000) }],
  };
  const short = { model: "m", messages: [{ role: "user", content: "Hi" }] };
  for (const body of [long, long, { ...short, max_tokens: 2_000 }, { ...short, max_tokens: 2 }]) {
    assert.equal((await post(gateway.url, "/v1/chat/completions", body)).status, 200);
  }
  // The last one fits both: round-robin gives it to the small instance, its turn.
  assert.deepEqual(served(small, large), [1, 3]);
});

Deno.test("a request no instance can take is refused with a 400 that names what is missing", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(chatInstances([
    { url: a.url, capabilities: "{ tools: false, context: 1000 }" },
    { url: b.url, capabilities: "{ tools: false, audio: false, context: 2000 }" },
  ]));
  const tools = await post(gateway.url, "/v1/chat/completions", {
    model: "m",
    messages: [{ role: "user", content: "Weather?" }],
    tools: [{ type: "function", function: { name: "weather", parameters: {} } }],
  });
  assert.equal(tools.status, 400);
  assert.deepEqual(Object.keys(tools.body), ["error"]);
  const error = tools.body.error as Record<string, unknown>;
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "missing_capability");
  assert.match(String(error.message), /^Model "m" has no instance with tools /);

  const long = await post(gateway.url, "/v1/chat/completions", {
    model: "m",
    max_tokens: 500,
    messages: [{ role: "user", content: "x".repeat(8_000) }],
  });
  assert.equal(long.status, 400);
  assert.match(
    String((long.body.error as Record<string, unknown>).message),
    /^Model "m" has no instance with a context of \d+ tokens .*the largest is 2000\)$/,
  );
  assert.deepEqual(served(a, b), [0, 0]);
});

Deno.test("audio needs an instance that takes audio", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(chatInstances([
    { url: a.url, capabilities: "{ audio: false }" },
    { url: b.url, capabilities: "{ audio: true }" },
  ]));
  for (let i = 0; i < 2; i++) {
    const answer = await post(gateway.url, "/v1/chat/completions", {
      model: "m",
      messages: [{
        role: "user",
        content: [{ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }],
      }],
    });
    assert.equal(answer.status, 200);
  }
  assert.deepEqual(served(a, b), [0, 2]);
});

const messagesImage = {
  model: "m",
  max_tokens: 20,
  messages: [{
    role: "user",
    content: [
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0K" } },
      { type: "text", text: "What is in it?" },
    ],
  }],
};

Deno.test("a Messages request with an image block skips the text-only instance", async () => {
  await using setup = await textAndVision();
  for (let i = 0; i < 2; i++) {
    const answer = await post(setup.gateway.url, "/v1/messages", messagesImage);
    assert.equal(answer.status, 200);
  }
  assert.deepEqual(served(setup.text, setup.vision), [0, 2]);
});

Deno.test("on /v1/messages the missing capability is refused in Anthropic's shape", async () => {
  await using setup = await textAndVision("{ vision: false }");
  const answer = await post(setup.gateway.url, "/v1/messages", messagesImage);
  assert.equal(answer.status, 400);
  assert.equal(answer.body.type, "error");
  const error = answer.body.error as Record<string, unknown>;
  assert.equal(error.type, "invalid_request_error");
  assert.match(String(error.message), /^Model "m" has no instance with vision /);
  assert.deepEqual(served(setup.text, setup.vision), [0, 0]);
});

const responsesImage = {
  model: "m",
  input: [{
    role: "user",
    content: [
      { type: "input_text", text: "What is in it?" },
      { type: "input_image", image_url: IMAGE },
    ],
  }],
};

Deno.test("a Responses request with an input image skips the text-only instance", async () => {
  await using setup = await textAndVision();
  for (let i = 0; i < 2; i++) {
    const answer = await post(setup.gateway.url, "/v1/responses", responsesImage);
    assert.equal(answer.status, 200);
  }
  assert.deepEqual(served(setup.text, setup.vision), [0, 2]);
});

Deno.test("on /v1/responses the missing capability is refused in OpenAI's shape", async () => {
  await using setup = await textAndVision("{ vision: false }");
  const answer = await post(setup.gateway.url, "/v1/responses", responsesImage);
  assert.equal(answer.status, 400);
  const error = answer.body.error as Record<string, unknown>;
  assert.equal(error.code, "missing_capability");
  assert.match(String(error.message), /^Model "m" has no instance with vision /);
  assert.deepEqual(served(setup.text, setup.vision), [0, 0]);
});

/** Resolves once every instance of the chat service has read its backend's model list. */
async function discovered(gatewayUrl: string): Promise<void> {
  await eventually(async () => {
    const status = await (await fetch(`${gatewayUrl}/v1/chat/status`)).json();
    for (const instance of status.instances) assert.ok(instance.discovered, "not read yet");
  }, 2_000);
}

Deno.test("a long prompt skips a vLLM instance whose max_model_len it exceeds", async () => {
  await using small = await startVllm({ name: "small", models: ["m"], maxModelLen: 1_000 });
  await using large = await startVllm({ name: "large", models: ["m"], maxModelLen: 100_000 });
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance: { type: round-robin }
      instances:
        - { name: m, base-url: "${small.url}", adapter: vllm, discover: true }
        - { name: m, base-url: "${large.url}", adapter: vllm, discover: true }
`,
    { schedule: manualSchedule().schedule },
  );
  await discovered(gateway.url);
  const long = { model: "m", messages: [{ role: "user", content: "word ".repeat(2_000) }] };
  for (let i = 0; i < 2; i++) {
    assert.equal((await post(gateway.url, "/v1/chat/completions", long)).status, 200);
  }
  assert.deepEqual(
    [small, large].map((backend) => backend.hits("POST", "/v1/chat/completions")),
    [0, 2],
  );
});

Deno.test("llama.cpp's /props tells which instance takes images; configured values win", async () => {
  await using text = await startLlamaCpp({ name: "text", models: ["m"] });
  await using vision = await startLlamaCpp({ name: "vision", models: ["m"], vision: true });
  await using told = await startLlamaCpp({ name: "told", models: ["m"] });
  const instance = (url: string, extra = "") =>
    `        - { name: m, base-url: "${url}", adapter: llamacpp, discover: true${extra} }\n`;
  await using gateway = await startGateway(
    `model:
  services:
    chat:
      load-balance: { type: round-robin }
      instances:
${instance(text.url)}${instance(vision.url)}${
      instance(told.url, ", capabilities: { vision: true }")
    }`,
    { schedule: manualSchedule().schedule },
  );
  await discovered(gateway.url);
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  assert.deepEqual(status.instances[0].learnedCapabilities, {
    m: { context: 4096, vision: false, audio: false },
  });
  assert.equal(status.instances[0].capabilities, null);
  assert.deepEqual(status.instances[2].capabilities, { vision: true });
  for (let i = 0; i < 4; i++) {
    assert.equal((await post(gateway.url, "/v1/chat/completions", chatImage)).status, 200);
  }
  assert.deepEqual(
    [text, vision, told].map((backend) => backend.hits("POST", "/v1/chat/completions")),
    [0, 2, 2],
  );
});

Deno.test("an image request waits for the busy vision instance rather than take the idle text one", async () => {
  await using text = await startFakeBackend({ name: "text" });
  await using vision = await startFakeBackend({ name: "vision" });
  await using gateway = await startGateway(`model:
  services:
    chat:
      instances:
        - { name: m, base-url: "${text.url}", capabilities: { vision: false } }
        - { name: m, base-url: "${vision.url}", max-concurrency: 1 }
`);
  const gate = new Gate();
  vision.holdNext(gate);
  const first = post(gateway.url, "/v1/chat/completions", chatImage);
  let second;
  try {
    await within(vision.received(1), 2_000, "the first image reached the vision instance");
    second = post(gateway.url, "/v1/chat/completions", chatImage);
    await eventually(async () => {
      const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
      assert.equal(status.queues[0]?.waiting, 1);
    }, 2_000);
  } finally {
    gate.open();
  }
  assert.deepEqual([(await first).status, (await second).status], [200, 200]);
  assert.deepEqual(served(text, vision), [0, 2]);
});
