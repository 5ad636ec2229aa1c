import assert from "node:assert/strict";
import { ADAPTER_NAMES } from "../adapters/mod.ts";
import { ConfigError, type ConfigProblem, parseConfig } from "./load.ts";

const jairouter = await Deno.readTextFile(
  new URL("../../config/examples/jairouter.yaml", import.meta.url),
);

function problemsOf(text: string, overrides = {}): readonly ConfigProblem[] {
  try {
    parseConfig(text, { source: "test.yaml", ...overrides });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("JAiRouter's example config loads unchanged, keys and meaning kept", () => {
  const { config, warnings } = parseConfig(jairouter, { source: "jairouter.yaml" });
  assert.deepEqual(warnings, [], "the example lists no instance twice, and nothing is ignored");
  const model = config.model;
  assert.equal(model.adapter, "gpustack");
  assert.deepEqual(model["load-balance"], { type: "random", "hash-algorithm": "md5" });
  assert.deepEqual(model["circuit-breaker"], {
    enabled: true,
    failureThreshold: 5,
    timeout: 60000,
    successThreshold: 2,
  });
  assert.equal(model.services.chat?.["load-balance"]?.type, "least-connections");
  assert.equal(model.services.chat?.instances[1]?.["rate-limit"]?.capacity, 50);
  assert.equal(model.services.rerank?.fallback?.["cache-ttl"], 600000);
  assert.equal(model.services.rerank?.["load-balance"]?.["hash-algorithm"], "sha256");
  assert.equal(model.services.embedding?.instances[2]?.["base-url"], "http://172.16.30.6:9090/");
  assert.equal(model.services.imgEdit?.instances[0]?.path, "/v1/images/edits");
  assert.equal(model.services.stt?.instances[0]?.weight, 2);
});

Deno.test("JAiRouter's global load-balance under services is accepted", () => {
  const { config } = parseConfig(
    "model:\n  services:\n    load-balance:\n      type: round-robin\n      hash-algorithm: md5\n",
    { source: "t" },
  );
  assert.equal(config.model.services["load-balance"]?.type, "round-robin");
});

Deno.test("an empty file gives the defaults", () => {
  const { config } = parseConfig("", { source: "empty.yaml" });
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.host, "0.0.0.0");
  assert.equal(config.server["max-body-size"], 32 * 1024 * 1024);
  assert.deepEqual(config.server.timeouts, {
    connect: 5000,
    "first-byte": 300000,
    "first-token": 300000,
    idle: 60000,
    "body-idle": 30000,
  });
  assert.equal(config.server.retries, 2);
});

Deno.test("every problem is reported with its YAML path and line", () => {
  const problems = problemsOf(`model:
  services:
    chat:
      instances:
        - name: a
          base-url: not a url
          weight: heavy
        - name: b
          base-url: http://127.0.0.1:1
          colour: blue
`);
  assert.deepEqual(
    problems.map((p) => [p.path, p.line]),
    [
      ["model.services.chat.instances[0].base-url", 6],
      ["model.services.chat.instances[0].weight", 7],
      ["model.services.chat.instances[1].colour", 10],
    ],
  );
  assert.match(problems[2]!.message, /Unknown key "colour"/);
});

Deno.test("a YAML syntax error names its line", () => {
  const problems = problemsOf("server:\n  port: 1\n   host: x\n");
  assert.ok(problems.length >= 1);
  assert.equal(problems[0]!.path, "(yaml)");
  assert.equal(typeof problems[0]!.line, "number");
});

Deno.test("a responses instance on an adapter without a Responses path must give its path", () => {
  assert.throws(
    () =>
      parseConfig(
        `model:
  services:
    responses:
      instances: [{ name: r, base-url: "http://127.0.0.1:1" }]
`,
        { source: "test.yaml" },
      ),
    /does not serve responses; set its path: \/v1\/responses where the backend serves/,
  );
});

Deno.test("an instance of a service its backend does not serve is an error naming it", () => {
  const inherited = problemsOf(`model:
  services:
    tts:
      adapter: ollama
      instances:
        - { name: voice, base-url: "http://127.0.0.1:11434", path: /v1/audio/speech }
`);
  assert.equal(inherited[0]!.path, "model.services.tts.instances[0]");
  assert.match(
    inherited[0]!.message,
    /Instance "voice" at http:\/\/127.0.0.1:11434 is Ollama \(adapter ollama\), which does not serve tts; if this backend does, set adapter: openai/,
  );
  const own = problemsOf(`model:
  services:
    imgGen:
      instances:
        - { name: sd, base-url: "http://127.0.0.1:8000", adapter: vllm }
`);
  assert.equal(own[0]!.path, "model.services.imgGen.instances[0].adapter");
});

Deno.test("a messages instance needs a backend that serves the API, or its path", () => {
  const unplaced = problemsOf(`model:
  services:
    messages:
      instances:
        - { name: claude-like, base-url: "http://127.0.0.1:9000" }
`);
  assert.equal(unplaced[0]!.path, "model.services.messages.instances[0]");
  assert.match(
    unplaced[0]!.message,
    /which does not serve messages; if this backend serves the Anthropic Messages API, give the instance its path/,
  );
  const placed = parseConfig(
    `model:
  services:
    messages:
      instances:
        - { name: a, base-url: "http://127.0.0.1:9000", path: /v1/messages }
        - { name: b, base-url: "http://127.0.0.1:9001", adapter: vllm }
`,
    { source: "test.yaml" },
  );
  assert.equal(placed.config.model.services.messages?.instances.length, 2);
});

Deno.test("overrides win over the file and are named in errors", () => {
  const { config } = parseConfig("server:\n  port: 1234\n", {
    source: "t",
    overrides: [{ path: ["server", "port"], value: 9999, origin: "--port" }],
  });
  assert.equal(config.server.port, 9999);
  const problems = problemsOf("", {
    overrides: [{ path: ["server", "port"], value: "abc", origin: "PORT" }],
  });
  assert.equal(problems[0]!.path, "server.port");
  assert.match(problems[0]!.message, /set by PORT/);
});

Deno.test("sizes take units", () => {
  const size = (text: string) =>
    parseConfig(`server:\n  max-body-size: ${text}\n`, { source: "t" }).config.server[
      "max-body-size"
    ];
  assert.equal(size("10MiB"), 10 * 1024 * 1024);
  assert.equal(size("512KB"), 512_000);
  assert.equal(size("2048"), 2048);
  assert.match(problemsOf("server:\n  max-body-size: lots\n")[0]!.message, /Expected a size/);
});

Deno.test("Spring sections of a whole application.yml are ignored with a warning", () => {
  const { warnings } = parseConfig("spring:\n  application:\n    name: x\nmodel: {}\n", {
    source: "t",
  });
  assert.deepEqual(warnings, ['Section "spring" is not used by Switchyard and is ignored']);
  assert.equal(problemsOf("bogus: 1\n")[0]!.path, "bogus");
});

Deno.test("an instance listed twice is reported, its default path counting as written", () => {
  const { config, warnings } = parseConfig(
    `model:
  services:
    chat:
      instances:
        - { name: m, base-url: "http://gpu-1:8000" }
        - { name: m, base-url: "http://gpu-1:8000/", path: /v1/chat/completions }
        - { name: m, base-url: "http://gpu-1:8000", path: /v1/completions }
        - { name: m, base-url: "http://gpu-2:8000", path: /v1/chat/completions }
`,
    { source: "t" },
  );
  assert.equal(config.model.services.chat?.instances.length, 4, "every instance is kept");
  assert.deepEqual(warnings, [
    "model.services.chat.instances[1] is the same instance as instances[0] " +
    '("m@http://gpu-1:8000/v1/chat/completions"); it is kept as ' +
    '"m@http://gpu-1:8000/v1/chat/completions#2", a copy with its own state',
  ]);
});

Deno.test("resilience settings are checked: limits need their numbers, proxies real ranges", () => {
  const problems = problemsOf(`server:
  trusted-proxies: [10.0.0.0/8, 10.1.2.0/8, not-an-address]
model:
  rate-limit:
    algorithm: leaky-bucket
    capacity: 10
  retry:
    statuses: [418]
  fallback:
    strategy: cache
    cache-ttl: 0
  services:
    chat:
      rate-limit:
        algorithm: sliding-window
        rate: 5
      instances:
        - name: a
          base-url: http://127.0.0.1:1
          max-concurrency: 0
          rate-limit:
            enabled: false
`);
  const byPath = new Map(problems.map((p) => [p.path, p.message]));
  assert.deepEqual([...byPath.keys()].toSorted(), [
    "model.fallback.cache-ttl",
    "model.rate-limit.rate",
    "model.retry.statuses[0]",
    "model.services.chat.instances[0].max-concurrency",
    "model.services.chat.rate-limit.capacity",
    "server.trusted-proxies[1]",
    "server.trusted-proxies[2]",
  ]);
  assert.match(byPath.get("model.rate-limit.rate")!, /leaky-bucket rate-limit needs rate/);
  assert.match(byPath.get("server.trusted-proxies[1]")!, /10\.0\.0\.0\/8/);
});

Deno.test("token limits: a section may limit tokens only, at every level", () => {
  const config = parseConfig(
    `model:
  rate-limit:
    tokens-per-minute: 1000
    token-type: output
  services:
    chat:
      rate-limit:
        tokens-per-minute: 500
        scope: instance
      instances:
        - name: a
          base-url: http://127.0.0.1:1
          rate-limit:
            tokens-per-minute: 10
`,
    { source: "test.yaml" },
  ).config;
  assert.equal(config.model["rate-limit"]?.["token-type"], "output");
  assert.equal(config.model.services.chat?.instances[0]?.["rate-limit"]?.["tokens-per-minute"], 10);
  const problems = problemsOf(`model:
  rate-limit:
    tokens-per-minute: 0
    token-type: words
`);
  assert.deepEqual(problems.map((p) => p.path).toSorted(), [
    "model.rate-limit.token-type",
    "model.rate-limit.tokens-per-minute",
  ]);
});

Deno.test("a missing required key says so, with the line of its parent", () => {
  const problems = problemsOf([
    "model:",
    "  services:",
    "    chat:",
    "      instances:",
    "        - base-url: http://a:8000",
    "        - name: b",
  ].join("\n"));
  assert.deepEqual(problems, [
    {
      path: "model.services.chat.instances[0].name",
      line: 5,
      message: 'Required key "name" is missing',
    },
    {
      path: "model.services.chat.instances[1].base-url",
      line: 6,
      message: 'Required key "base-url" is missing',
    },
  ]);
});

Deno.test("an unknown value lists the allowed ones", () => {
  const problems = problemsOf([
    "model:",
    "  services:",
    "    chat:",
    "      load-balance:",
    "        type: round-robbin",
    "      adapter: vlm",
  ].join("\n"));
  assert.deepEqual(problems.map((problem) => [problem.path, problem.line, problem.message]), [
    [
      "model.services.chat.load-balance.type",
      5,
      'Unknown strategy "round-robbin"; expected one of random, round-robin, least-connections, ' +
      "least-load, ip-hash, consistent-hash, fastest, cost",
    ],
    [
      "model.services.chat.adapter",
      6,
      `Unknown adapter "vlm"; expected one of ${ADAPTER_NAMES.join(", ")}`,
    ],
  ]);
});

Deno.test("an unknown key close to a known one suggests it", () => {
  const problems = problemsOf([
    "model:",
    "  circuit-breaker:",
    "    failure-threshold: 3",
    "  services:",
    "    chat:",
    "      instances:",
    "        - name: a",
    "          base_url: http://a:8000",
    "          wieght: 2",
    "          colour: blue",
  ].join("\n"));
  assert.deepEqual(problems.map((problem) => [problem.path, problem.line, problem.message]), [
    [
      "model.circuit-breaker.failure-threshold",
      3,
      'Unknown key "failure-threshold"; did you mean "failureThreshold"?',
    ],
    ["model.services.chat.instances[0].base-url", 7, 'Required key "base-url" is missing'],
    [
      "model.services.chat.instances[0].base_url",
      8,
      'Unknown key "base_url"; did you mean "base-url"?',
    ],
    ["model.services.chat.instances[0].wieght", 9, 'Unknown key "wieght"; did you mean "weight"?'],
    ["model.services.chat.instances[0].colour", 10, 'Unknown key "colour"'],
  ]);
});
