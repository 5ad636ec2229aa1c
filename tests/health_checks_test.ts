/**
 * Active health checks and passive outlier detection, against emulated backends over real HTTP:
 * a killed backend is skipped and comes back after it restarts, a model with every instance out
 * gets 503, and an instance failing real requests is ejected.
 */
import assert from "node:assert/strict";
import { startVllm, type VllmBackend } from "./fixtures/backends/mod.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway, type TestGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";
import { BACKEND_ROUTES, deadUrl, gatewayOverRoute } from "./fixtures/backend_routes.ts";

const MODEL = "qwen";

function chat(gateway: TestGateway): Promise<Response> {
  return postChat(gateway.url, { model: MODEL });
}

interface InstanceStatus {
  baseUrl: string;
  requests: number;
  available: boolean;
  health: { status: string; reason: string; changedAt: string | null };
  ejection: { ejected: boolean; reason: string; ejections: number } | null;
}

async function instances(gateway: TestGateway): Promise<InstanceStatus[]> {
  const response = await fetch(`${gateway.url}/v1/chat/status`);
  return (await response.json()).instances;
}

async function healthOf(gateway: TestGateway, backend: { url: string }): Promise<string> {
  const found = (await instances(gateway)).find((instance) => instance.baseUrl === backend.url);
  assert.ok(found, `no instance at ${backend.url}`);
  return found.health.status;
}

function vllmPool(backends: readonly VllmBackend[], extra = ""): string {
  return `server:
  retries: 0
model:
  health-check: { interval: 100, timeout: 500 }
${extra}  services:
    chat:
      load-balance: { type: round-robin }
      instances:
${
    backends.map((b) => `        - { name: ${MODEL}, base-url: "${b.url}", adapter: vllm }\n`).join(
      "",
    )
  }`;
}

Deno.test("a killed backend is skipped after a probe finds it, and back once it restarts", async () => {
  await using a = await startVllm({ name: "a", models: [MODEL] });
  await using b = await startVllm({ name: "b", models: [MODEL] });
  const logged: string[] = [];
  await using gateway = await startGateway(vllmPool([a, b]), {
    log: (line) => logged.push(line),
  });
  await eventually(async () => assert.equal(await healthOf(gateway, a), "up"), 2_000);

  await a.stop();
  await eventually(async () => assert.equal(await healthOf(gateway, a), "down"), 2_000);
  const down = (await instances(gateway))[0]!;
  assert.equal(down.available, false);
  assert.match(down.health.reason, /cannot connect \(connection refused\)/);
  assert.ok(down.health.changedAt);
  // With no retries, any request sent to the dead backend would fail: none is.
  for (let i = 0; i < 6; i++) {
    const response = await chat(gateway);
    assert.equal(response.status, 200);
    assert.match((await response.json()).choices[0].message.content, /from b/);
  }

  await a.restart();
  await eventually(async () => assert.equal(await healthOf(gateway, a), "up"), 2_000);
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) {
    answers.add((await (await chat(gateway)).json()).choices[0].message.content);
  }
  assert.ok([...answers].some((content) => /from a/.test(content)), "a serves again");
  assert.ok(logged.some((line) => line.includes(`vllm ${a.url} is down`)), logged.join("\n"));
  assert.ok(logged.some((line) => line.includes(`vllm ${a.url} is up`)), logged.join("\n"));
});

Deno.test("probes use the health endpoint and never spend GPU time", async () => {
  await using a = await startVllm({ models: [MODEL] });
  await using _gateway = await startGateway(vllmPool([a]));
  await eventually(() => Promise.resolve(assert.ok(a.hits("GET", "/health") >= 2)), 2_000);
  assert.equal(a.requests.filter((request) => request.method === "POST").length, 0);
});

Deno.test("a backend answering its probe with 5xx is out at once; none left is a 503", async () => {
  await using a = await startVllm({ models: [MODEL], health: "failing" });
  await using gateway = await startGateway(vllmPool([a]));
  await eventually(async () => assert.equal(await healthOf(gateway, a), "down"), 2_000);
  const response = await chat(gateway);
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "1");
  const { error } = await response.json();
  assert.equal(error.code, "no_healthy_upstream");
  assert.equal(error.message, 'Every instance of model "qwen" is out of service: 1 down');
  assert.equal(a.requests.filter((request) => request.method === "POST").length, 0);

  a.setHealth("up");
  await eventually(async () => assert.equal(await healthOf(gateway, a), "up"), 2_000);
  assert.equal((await chat(gateway)).status, 200);
});

/** Two round-robin instances of the model, ejected after 2 failures in a row, for a minute. */
function ejectingPair(backends: readonly { url: string }[], retries: number): string {
  return `server:
  retries: ${retries}
model:
  outlier-detection: { consecutive-failures: 2, base-ejection-time: 60000 }
  services:
    chat:
      load-balance: { type: round-robin }
      instances:
${
    backends.map((backend) => `        - { name: ${MODEL}, base-url: "${backend.url}" }\n`).join("")
  }`;
}

Deno.test("an instance failing real requests is ejected and gets none until it is back", async () => {
  await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
  await using good = await startFakeBackend({ name: "good" });
  await using gateway = await startGateway(ejectingPair([failing, good], 1));
  for (let i = 0; i < 8; i++) {
    const response = await chat(gateway);
    assert.equal(response.status, 200, "the failure is retried on the good instance");
    assert.equal((await response.json()).backend, "good");
  }
  assert.equal(failing.requests.length, 2, "ejected after its second failure in a row");
  const [ejected] = await instances(gateway);
  assert.equal(ejected?.available, false);
  assert.equal(ejected?.ejection?.ejected, true);
  assert.equal(ejected?.ejection?.ejections, 1);
  assert.match(
    ejected?.ejection?.reason ?? "",
    /2 requests in a row failed, the last: answered 500/,
  );
});

Deno.test("when every instance fails, outlier detection leaves one in rotation", async () => {
  await using first = await startFakeBackend({ name: "first", failStatus: 500 });
  await using second = await startFakeBackend({ name: "second", failStatus: 500 });
  await using gateway = await startGateway(ejectingPair([first, second], 0));
  for (let i = 0; i < 8; i++) {
    const response = await chat(gateway);
    const body = await response.text();
    assert.doesNotMatch(body, /no_healthy_upstream/, "a request never finds the model empty");
  }
  const posts = (backend: { requests: readonly { method: string }[] }) =>
    backend.requests.filter((request) => request.method === "POST").length;
  assert.equal(posts(first) + posts(second), 8, "every request reached a backend");
  const status = await instances(gateway);
  assert.equal(status.filter((instance) => instance.ejection?.ejected).length, 1);
  assert.equal(status.filter((instance) => instance.available).length, 1);
});

for (const route of BACKEND_ROUTES) {
  Deno.test(`${route.name}: a backend that refuses connections is down at its first probe`, async () => {
    await using gateway = await gatewayOverRoute(
      route,
      `model:
  health-check: { interval: 100, timeout: 500, unhealthy-threshold: 3 }
  services:
    chat:
      instances:
        - { name: m, base-url: "${deadUrl(route)}" }
`,
    );
    await eventually(async () => {
      const [instance] = (await serviceStatus(gateway.url)).instances;
      assert.equal(instance?.health.status, "down");
      // Not after a run of failed probes: a refused connection settles it.
      assert.match(instance?.health.reason ?? "", /^cannot connect \(.*connection.refused/);
    }, 2_000);
  });
}
