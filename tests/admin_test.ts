import assert from "node:assert/strict";
import { adminCall, type ErrorBody, instancePath } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { Gate } from "./fixtures/gate.ts";
import { gatewayOverBackend, oneService, startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

interface Instance {
  readonly id: string;
  readonly instanceId: string;
  readonly config: Record<string, unknown>;
}
interface ConfigAnswer {
  readonly version: number;
  readonly by: string;
  readonly action: string;
  readonly config: {
    readonly services: { readonly chat: { readonly instances: Record<string, unknown>[] } };
  };
}

async function answeredBy(url: string, model = "m"): Promise<string> {
  const response = await postChat(url, { model });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.backend;
}

Deno.test("an instance added over the admin API takes traffic at once", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]), {
    backend: { name: "first" },
  });
  await using second = await startFakeBackend({ name: "second" });
  const url = setup.gateway.url;

  const read = await adminCall<ConfigAnswer>(url, "GET", "/admin/config");
  assert.equal(read.status, 200);
  assert.equal(read.etag, '"v1"');
  assert.equal(read.body.version, 1);

  const added = await adminCall<Instance>(url, "POST", "/admin/services/chat/instances", {
    ifMatch: read.etag!,
    body: { name: "big", "base-url": second.url, weight: 3 },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.equal(added.etag, '"v2"');
  assert.equal(added.body.id, `big@${second.url}/v1/chat/completions`);
  assert.equal(added.body.instanceId, `big@${second.url}`);
  assert.equal(await answeredBy(url, "big"), "second");
  assert.equal(await answeredBy(url, "m"), "first");
});

Deno.test("a write needs If-Match: 428 without, 412 with the current ETag when stale", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const id = `m@${setup.backend.url}/v1/chat/completions`;

  const missing = await adminCall(url, "PATCH", instancePath("chat", id), { body: { weight: 2 } });
  assert.equal(missing.status, 428);
  assert.equal(missing.body.error.code, "precondition_required");

  const first = await adminCall(url, "PATCH", instancePath("chat", id), {
    ifMatch: '"v1"',
    body: { weight: 2 },
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const stale = await adminCall(url, "PATCH", instancePath("chat", id), {
    ifMatch: '"v1"',
    body: { weight: 5 },
  });
  assert.equal(stale.status, 412);
  assert.equal(stale.etag, '"v2"');
  assert.equal(stale.body.error.code, "precondition_failed");
  const now = await adminCall<Instance>(url, "GET", instancePath("chat", id));
  assert.equal(now.body.config.weight, 2);
});

Deno.test("of twenty operators writing from the same version, exactly one succeeds", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const id = `m@${setup.backend.url}/v1/chat/completions`;
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      adminCall(url, "PATCH", instancePath("chat", id), {
        ifMatch: '"v1"',
        body: { weight: i + 2 },
      })),
  );
  const statuses = answers.map((answer) => answer.status).sort();
  assert.deepEqual(statuses, [200, ...Array(19).fill(412)]);
  const winner = answers.findIndex((answer) => answer.status === 200);
  const versions = await adminCall<{ versions: { version: number }[] }>(
    url,
    "GET",
    "/admin/config/versions",
  );
  assert.deepEqual(versions.body.versions.map((v) => v.version), [2, 1]);
  const now = await adminCall<Instance>(url, "GET", instancePath("chat", id));
  assert.equal(now.body.config.weight, winner + 2);
});

Deno.test("twenty writes with If-Match: * at once all land, one version each", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      adminCall(url, "POST", "/admin/services/chat/instances", {
        ifMatch: "*",
        body: { name: `w${i}`, "base-url": "http://127.0.0.1:9" },
      })),
  );
  assert.deepEqual(answers.map((answer) => answer.status), Array(20).fill(201));
  const config = await adminCall<ConfigAnswer>(url, "GET", "/admin/config");
  assert.equal(config.body.version, 21);
  assert.equal(config.body.config.services.chat.instances.length, 21);
});

Deno.test("rolling back to version 1 makes a new version with version 1's config", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]), {
    backend: { name: "first" },
  });
  await using second = await startFakeBackend({ name: "second" });
  const url = setup.gateway.url;
  const added = await adminCall(url, "POST", "/admin/services/chat/instances", {
    ifMatch: '"v1"',
    body: { name: "big", "base-url": second.url },
  });
  assert.equal(added.status, 201);
  assert.equal(await answeredBy(url, "big"), "second");

  const diff = await adminCall<{ changes: { path: string; op: string }[] }>(
    url,
    "GET",
    "/admin/config/diff?from=1&to=2",
  );
  assert.deepEqual(diff.body.changes.map(({ path, op }) => [path, op]), [
    [`services.chat.instances[big@${second.url}]`, "added"],
  ]);

  const rolledBack = await adminCall<{ version: number }>(
    url,
    "POST",
    "/admin/config/versions/1/apply",
    { ifMatch: '"v2"' },
  );
  assert.equal(rolledBack.status, 200, JSON.stringify(rolledBack.body));
  assert.equal(rolledBack.body.version, 3);
  assert.equal(rolledBack.etag, '"v3"');
  const gone = await postChat(url, { model: "big" });
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
  const [one, three] = await Promise.all(
    [1, 3].map((n) => adminCall<ConfigAnswer>(url, "GET", `/admin/config/versions/${n}`)),
  );
  assert.deepEqual(three!.body.config, one!.body.config);
  assert.match(three!.body.action, /roll back to version 1/);
});

Deno.test("writes are validated with the config schema, and errors name the field", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const cases: [string, unknown, string, RegExp][] = [
    ["bad weight", { name: "x", "base-url": "http://127.0.0.1:9", weight: 0 }, "weight", /weight/],
    [
      "unknown key",
      { name: "x", "base-url": "http://127.0.0.1:9", wieght: 2 },
      "wieght",
      /wieght: Unknown key "wieght"; did you mean "weight"\?/,
    ],
    ["no base-url", { name: "x" }, "base-url", /base-url: Required key "base-url" is missing/],
    [
      "bad status",
      { name: "x", "base-url": "http://127.0.0.1:9", status: "off" },
      "status",
      /Unknown status "off"; expected one of active, draining, disabled/,
    ],
  ];
  for (const [label, body, param, message] of cases) {
    const answer = await adminCall(url, "POST", "/admin/services/chat/instances", {
      ifMatch: '"v1"',
      body,
    });
    assert.equal(answer.status, 400, label);
    assert.equal(answer.body.error.code, "invalid_config", label);
    assert.equal(answer.body.error.param, param, label);
    assert.match(answer.body.error.message, message, label);
  }
  const service = await adminCall(url, "PATCH", "/admin/services/chat", {
    ifMatch: '"v1"',
    body: { "load-balance": { type: "quickest" } },
  });
  assert.equal(service.status, 400);
  assert.equal(service.body.error.param, "model.services.chat.load-balance.type");
  assert.match(service.body.error.message, /Unknown strategy "quickest"; expected one of random,/);
  const notJson = await fetch(`${url}/admin/services/chat`, {
    method: "PATCH",
    headers: { "if-match": '"v1"' },
    body: "{",
  });
  assert.equal(notJson.status, 400);
  assert.equal((await notJson.json()).error.code, "invalid_json");
  const versions = await adminCall<{ current: number }>(url, "GET", "/admin/config/versions");
  assert.equal(versions.body.current, 1);
});

Deno.test("a service's strategy changes at runtime", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const changed = await adminCall<Record<string, unknown>>(url, "PATCH", "/admin/services/chat", {
    ifMatch: '"v1"',
    body: { "load-balance": { type: "round-robin" } },
  });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.deepEqual(changed.body, { "load-balance": { type: "round-robin" } });
  const status = await (await fetch(`${url}/v1/chat/status`)).json();
  assert.equal(status.strategy, "round-robin");
});

Deno.test("instance URLs pointing at cloud metadata are refused; private ones when asked", async () => {
  await using open = await gatewayOverBackend((url) => oneService("chat", [url]));
  const refused = [
    "http://169.254.169.254/latest/meta-data",
    "http://metadata.google.internal",
    "http://[fd00:ec2::254]/",
    "file:///etc/passwd",
  ];
  for (const base of refused) {
    const answer = await adminCall(open.gateway.url, "POST", "/admin/services/chat/instances", {
      ifMatch: "*",
      body: { name: "x", "base-url": base },
    });
    assert.equal(answer.status, 400, base);
    assert.match(answer.body.error.code, /forbidden_url|invalid_config/, base);
  }
  const privateOk = await adminCall(open.gateway.url, "POST", "/admin/services/chat/instances", {
    ifMatch: "*",
    body: { name: "x", "base-url": "http://10.0.0.7:8000" },
  });
  assert.equal(privateOk.status, 201);

  await using closed = await gatewayOverBackend((url) =>
    `admin:\n  allow-private: false\n${oneService("chat", [url])}`
  );
  const privateRefused = await adminCall(
    closed.gateway.url,
    "POST",
    "/admin/services/chat/instances",
    { ifMatch: "*", body: { name: "x", "base-url": "http://10.0.0.7:8000" } },
  );
  assert.equal(privateRefused.status, 400);
  assert.equal(privateRefused.body.error.code, "forbidden_url");
  assert.match(privateRefused.body.error.message, /allow-private/);
});

Deno.test("a draining instance takes no new requests while its request in flight ends", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(oneService("chat", [a.url, b.url]));
  const gate = new Gate();
  a.holdNext(gate);
  b.holdNext(gate);
  const inFlight = postChat(gateway.url);
  const first = await Promise.race([a.received(1).then(() => a), b.received(1).then(() => b)]);
  const other = first === a ? b : a;

  const drained = await adminCall(
    gateway.url,
    "PATCH",
    instancePath("chat", `m@${first.url}/v1/chat/completions`),
    { ifMatch: '"v1"', body: { status: "draining" } },
  );
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  const status = await (await fetch(`${gateway.url}/v1/chat/status`)).json();
  const shown = status.instances.find((i: { baseUrl: string }) => i.baseUrl === first.url);
  assert.equal(shown.status, "draining");
  assert.equal(shown.activeRequests, 1);

  gate.open();
  for (let i = 0; i < 4; i++) assert.equal(await answeredBy(gateway.url), other.name);
  const finished = await inFlight;
  assert.equal(finished.status, 200);
  assert.equal((await finished.json()).backend, first.name);

  const disabled = await adminCall(
    gateway.url,
    "PATCH",
    instancePath("chat", `m@${other.url}/v1/chat/completions`),
    { ifMatch: '"v2"', body: { status: "disabled" } },
  );
  assert.equal(disabled.status, 200);
  const none = await postChat(gateway.url);
  assert.equal(none.status, 503);
  assert.equal((await none.json() as ErrorBody).error.code, "model_unavailable");
});

Deno.test("an instance removed at runtime leaves; a request to it gets a 404", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const removed = await adminCall(
    url,
    "DELETE",
    instancePath("chat", `m@${setup.backend.url}`),
    { ifMatch: '"v1"' },
  );
  assert.equal(removed.status, 204);
  assert.equal(removed.etag, '"v2"');
  const response = await postChat(url);
  assert.equal(response.status, 404);
  await response.body?.cancel();
  const missing = await adminCall(url, "DELETE", instancePath("chat", "nope@http://x"), {
    ifMatch: '"v2"',
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "instance_not_found");
});

Deno.test("every admin write is in the audit trail, with who, what, before and after", async () => {
  await using setup = await gatewayOverBackend((url) =>
    `admin:\n  keys:\n    - id: ops\n      key: ops-secret-key\n${oneService("chat", [url])}`
  );
  const url = setup.gateway.url;
  const id = `m@${setup.backend.url}/v1/chat/completions`;
  const unauthorized = await adminCall(url, "GET", "/admin/config");
  assert.equal(unauthorized.status, 401);
  assert.equal(unauthorized.body.error.code, "invalid_api_key");
  const wrong = await adminCall(url, "GET", "/admin/config", { key: "guess" });
  assert.equal(wrong.status, 401);

  const key = "ops-secret-key";
  const changed = await adminCall(url, "PATCH", instancePath("chat", id), {
    key,
    ifMatch: '"v1"',
    body: { weight: 4 },
  });
  assert.equal(changed.status, 200);
  const reset = await adminCall(url, "POST", "/admin/limiters/reset", { key });
  assert.equal(reset.status, 200);
  const audit = await adminCall<{ entries: Record<string, unknown>[] }>(
    url,
    "GET",
    "/admin/audit",
    { key },
  );
  const [latest, update] = audit.body.entries;
  assert.equal(latest!.action, "reset limiters");
  assert.equal(latest!.by, "ops");
  assert.equal(update!.action, "update instance");
  assert.equal(update!.by, "ops");
  assert.equal(update!.target, `chat/${id}`);
  assert.equal(update!.version, 2);
  assert.equal((update!.before as { weight: number }).weight, 1);
  assert.equal((update!.after as { weight: number }).weight, 4);
  assert.ok(!JSON.stringify(audit.body).includes(key));
  const versions = await adminCall<{ versions: { by: string }[] }>(
    url,
    "GET",
    "/admin/config/versions",
    { key },
  );
  assert.equal(versions.body.versions[0]!.by, "ops");
});

Deno.test("without an admin key the admin API answers only on loopback", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const app = setup.gateway.gateway.app;
  const remote = await app.request("/admin/config", {}, { remoteAddr: { hostname: "10.1.2.3" } });
  assert.equal(remote.status, 403);
  assert.equal((await remote.json()).error.code, "permission_denied");
  const jaiRouter = await app.request("/api/config/instance/type/chat", {}, {
    remoteAddr: { hostname: "192.168.1.9" },
  });
  assert.equal(jaiRouter.status, 403);
  assert.equal((await jaiRouter.json()).success, false);
  const local = await app.request("/admin/config", {}, { remoteAddr: { hostname: "::1" } });
  assert.equal(local.status, 200);
});

Deno.test("breakers can be viewed and reset, one or all", async () => {
  await using setup = await gatewayOverBackend((url) =>
    `model:\n  circuit-breaker:\n    failureThreshold: 1\n    timeout: 60000\n` +
    oneService("chat", [url]).replace("model:\n", "")
  );
  const url = setup.gateway.url;
  setup.backend.failWith(500);
  const failed = await postChat(url);
  await failed.body?.cancel();
  const before = await adminCall<{ breakers: { instance: string; breaker: { status: string } }[] }>(
    url,
    "GET",
    "/admin/breakers",
  );
  assert.deepEqual(before.body.breakers.map((b) => b.breaker.status), ["open"]);
  const id = before.body.breakers[0]!.instance;
  const reset = await adminCall(url, "POST", `/admin/breakers/${encodeURIComponent(id)}/reset`);
  assert.equal(reset.status, 200);
  const after = await adminCall<{ breakers: { breaker: { status: string } }[] }>(
    url,
    "GET",
    "/admin/breakers",
  );
  assert.deepEqual(after.body.breakers.map((b) => b.breaker.status), ["closed"]);
  const unknown = await adminCall(url, "POST", "/admin/breakers/nope/reset");
  assert.equal(unknown.status, 404);
});

Deno.test("limiters can be viewed and refilled", async () => {
  await using setup = await gatewayOverBackend((url) =>
    `model:\n  rate-limit:\n    capacity: 1\n    rate: 0.001\n` +
    oneService("chat", [url]).replace("model:\n", "")
  );
  const url = setup.gateway.url;
  const ok = await postChat(url);
  await ok.body?.cancel();
  const limited = await postChat(url);
  await limited.body?.cancel();
  assert.equal(limited.status, 429);
  const limits = await adminCall<{ limits: { policy: string }[] }>(url, "GET", "/admin/limiters");
  assert.deepEqual(limits.body.limits.map((limit) => limit.policy), ["model"]);
  const reset = await adminCall<{ reset: number }>(
    url,
    "POST",
    "/admin/limiters/reset?policy=model",
  );
  assert.equal(reset.body.reset, 1);
  const again = await postChat(url);
  await again.body?.cancel();
  assert.equal(again.status, 200);
});

Deno.test("the admin API is in the OpenAPI document", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const document = await (await fetch(`${setup.gateway.url}/openapi.json`)).json();
  for (
    const path of [
      "/admin/config",
      "/admin/config/versions/{version}/apply",
      "/admin/services/{type}/instances/{id}",
      "/admin/breakers/{id}/reset",
      "/admin/keys",
      "/admin/audit",
      "/api/config/instance/add/{type}",
    ]
  ) {
    assert.ok(document.paths[path], path);
  }
});

Deno.test("an instance posted with its default path written out is the same instance: 409", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const read = await adminCall(url, "GET", "/admin/config");

  for (const base of [setup.backend.url, `${setup.backend.url}/`]) {
    const again = await adminCall<ErrorBody>(url, "POST", "/admin/services/chat/instances", {
      ifMatch: read.etag!,
      body: { name: "m", "base-url": base, path: "/v1/chat/completions" },
    });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.error.code, "instance_exists");
    assert.match(again.body.error.message, /m@.*\/v1\/chat\/completions/);
  }
  const listed = await adminCall<{ instances: Instance[] }>(
    url,
    "GET",
    "/admin/services/chat/instances",
  );
  assert.deepEqual(listed.body.instances.map((instance) => instance.id), [
    `m@${setup.backend.url}/v1/chat/completions`,
  ]);
});

Deno.test("the store keeps the newest admin.keep-versions versions; older ones are gone", async () => {
  await using setup = await gatewayOverBackend(
    (url) => oneService("chat", [url], { server: "admin:\n  keep-versions: 2\n" }),
  );
  const url = setup.gateway.url;
  const id = `m@${setup.backend.url}/v1/chat/completions`;
  for (const weight of [2, 3, 4]) {
    const changed = await adminCall(url, "PATCH", instancePath("chat", id), {
      ifMatch: "*",
      body: { weight },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
  }
  const versions = await adminCall<{ current: number; versions: { version: number }[] }>(
    url,
    "GET",
    "/admin/config/versions",
  );
  assert.equal(versions.body.current, 4);
  assert.deepEqual(versions.body.versions.map((v) => v.version), [4, 3]);
  const pruned = await adminCall(url, "POST", "/admin/config/versions/2/apply", {
    ifMatch: '"v4"',
  });
  assert.equal(pruned.status, 404);
  assert.equal(pruned.body.error.code, "version_not_found");
  const back = await adminCall(url, "POST", "/admin/config/versions/3/apply", { ifMatch: '"v4"' });
  assert.equal(back.status, 200, JSON.stringify(back.body));
  const now = await adminCall<Instance>(url, "GET", instancePath("chat", id));
  assert.equal(now.body.config.weight, 3);
});
