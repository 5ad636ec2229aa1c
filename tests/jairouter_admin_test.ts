/**
 * JAiRouter's instance endpoints under `/api/config/instance`, called over real HTTP as an
 * existing JAiRouter operator script calls them: camelCase JSON as its Java beans serialize it,
 * `null` fields included, no `If-Match`, answers in its `{success, message, data, errorCode,
 * timestamp}` wrapper.
 */
import assert from "node:assert/strict";
import { type AdminAnswer, adminCall, type AdminInit, type Wrapped } from "./fixtures/admin.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gatewayOverBackend, oneService, REPO_ROOT, startGateway } from "./fixtures/gateway.ts";
import { postChat, serviceStatus } from "./fixtures/requests.ts";

/** An instance as JAiRouter shows it. */
interface JaiInstance {
  readonly instanceId: string;
  readonly name: string;
  readonly baseUrl: string;
  readonly path?: string;
  readonly weight?: number;
  readonly rateLimit?: Readonly<Record<string, unknown>>;
}

const BASE = "/api/config/instance";

/** Calls a JAiRouter endpoint and checks the answer is in its wrapper. */
async function jai<T = null>(
  url: string,
  method: string,
  path: string,
  init: AdminInit = {},
): Promise<AdminAnswer<Wrapped<T>>> {
  const answer = await adminCall<Wrapped<T>>(url, method, `${BASE}${path}`, init);
  assertWrapped(answer.body);
  return answer;
}

/** The wrapper's shape: every field present, `errorCode` set exactly when it failed. */
function assertWrapped(body: Wrapped<unknown>): void {
  const shown = JSON.stringify(body);
  assert.deepEqual(
    Object.keys(body).toSorted(),
    ["data", "errorCode", "message", "success", "timestamp"],
    shown,
  );
  assert.equal(typeof body.success, "boolean", shown);
  assert.equal(typeof body.message, "string", shown);
  assert.equal(new Date(body.timestamp).toISOString(), body.timestamp, "an ISO timestamp");
  if (body.success) assert.equal(body.errorCode, null, shown);
  else {
    assert.equal(typeof body.errorCode, "string", shown);
    assert.equal(body.data, null, shown);
  }
}

/** `?instanceId=` for JAiRouter's `name@baseUrl`. */
function byId(instanceId: string): string {
  return `?${new URLSearchParams({ instanceId })}`;
}

/** Posts a chat request for `model`; its status and, when answered, the backend that did. */
async function chat(url: string, model: string): Promise<{ status: number; backend?: string }> {
  const response = await postChat(url, { model });
  const body: { backend?: string } = await response.json();
  return { status: response.status, ...(body.backend ? { backend: body.backend } : {}) };
}

Deno.test("JAiRouter list: a service's instances, with instanceId name@baseUrl", async () => {
  await using a = await startFakeBackend({ name: "a" });
  await using b = await startFakeBackend({ name: "b" });
  await using gateway = await startGateway(
    oneService("chat", [a.url, { url: b.url, weight: 3 }], { model: "qwen" }),
  );

  const listed = await jai<JaiInstance[]>(gateway.url, "GET", "/type/chat");
  assert.equal(listed.status, 200);
  assert.equal(listed.body.success, true);
  assert.equal(listed.body.errorCode, null);
  assert.deepEqual(listed.body.data, [
    { instanceId: `qwen@${a.url}`, name: "qwen", baseUrl: a.url, weight: 1 },
    { instanceId: `qwen@${b.url}`, name: "qwen", baseUrl: b.url, weight: 3 },
  ]);

  const none = await jai<JaiInstance[]>(gateway.url, "GET", "/type/embedding");
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.data, []);
  assert.equal(a.requests.length + b.requests.length, 0);
});

Deno.test("JAiRouter add: the instance takes chat traffic at once, as a new version", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]), {
    backend: { name: "first" },
  });
  await using second = await startFakeBackend({ name: "second" });
  const url = setup.gateway.url;

  const added = await jai(url, "POST", "/add/chat", {
    body: { name: "big", baseUrl: second.url, path: null, weight: 2, rateLimit: null },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.equal(added.body.success, true);
  assert.equal(added.body.data, null);

  assert.deepEqual(await chat(url, "big"), { status: 200, backend: "second" });
  assert.deepEqual(await chat(url, "m"), { status: 200, backend: "first" });
  assert.equal(second.requests.length, 1);
  assert.equal(second.requests[0]!.path, "/v1/chat/completions");

  const shown = await jai<JaiInstance>(url, "GET", `/info/chat${byId(`big@${second.url}`)}`);
  // The nulls were not written into the config.
  assert.deepEqual(shown.body.data, {
    instanceId: `big@${second.url}`,
    name: "big",
    baseUrl: second.url,
    weight: 2,
  });

  const versions = await adminCall<{
    current: number;
    versions: { version: number; by: string; action: string }[];
  }>(url, "GET", "/admin/config/versions");
  assert.equal(versions.body.current, 2);
  const [latest] = versions.body.versions;
  assert.equal(latest!.version, 2);
  assert.equal(latest!.action, `add instance chat/big@${second.url}`);
  assert.equal(latest!.by, "loopback");
});

Deno.test("JAiRouter info: one instance by instanceId; 404 unknown, 400 without an id", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const instanceId = `m@${setup.backend.url}`;

  const found = await jai<JaiInstance>(url, "GET", `/info/chat${byId(instanceId)}`);
  assert.equal(found.status, 200);
  assert.equal(found.body.success, true);
  assert.deepEqual(found.body.data, {
    instanceId,
    name: "m",
    baseUrl: setup.backend.url,
    weight: 1,
  });

  const unknown = await jai(url, "GET", `/info/chat${byId("nope@http://127.0.0.1:9")}`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.success, false);
  assert.equal(unknown.body.errorCode, "instance_not_found");
  assert.match(unknown.body.message, /nope@http:\/\/127\.0\.0\.1:9/);

  // The instance exists, but in another service.
  const elsewhere = await jai(url, "GET", `/info/embedding${byId(instanceId)}`);
  assert.equal(elsewhere.status, 404);
  assert.equal(elsewhere.body.errorCode, "instance_not_found");

  for (const query of ["", "?instanceId="]) {
    const missing = await jai(url, "GET", `/info/chat${query}`);
    assert.equal(missing.status, 400, query);
    assert.equal(missing.body.success, false, query);
    assert.equal(missing.body.errorCode, "invalid_request", query);
    assert.match(missing.body.message, /instanceId/, query);
  }
});

Deno.test("JAiRouter update: {instanceId, instance} changes weight and rate limit", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const instanceId = `m@${setup.backend.url}`;
  const rateLimit = {
    enabled: true,
    algorithm: "token-bucket",
    capacity: 10,
    rate: 5,
    scope: "instance",
    clientIpEnable: false,
  };

  const updated = await jai(url, "PUT", "/update/chat", {
    body: {
      instanceId,
      instance: { name: "m", baseUrl: setup.backend.url, path: null, weight: 5, rateLimit },
    },
  });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.equal(updated.body.success, true);

  const shown = await jai<JaiInstance>(url, "GET", `/info/chat${byId(instanceId)}`);
  assert.equal(shown.status, 200);
  assert.equal(shown.body.data.weight, 5);
  assert.deepEqual(shown.body.data.rateLimit, rateLimit);

  const status = await serviceStatus(url);
  assert.deepEqual(
    status.instances.map(({ baseUrl, weight }) => ({ baseUrl, weight })),
    [{ baseUrl: setup.backend.url, weight: 5 }],
  );
  assert.deepEqual(await chat(url, "m"), { status: 200, backend: "backend" });

  const versions = await adminCall<{ versions: { action: string }[] }>(
    url,
    "GET",
    "/admin/config/versions",
  );
  assert.match(versions.body.versions[0]!.action, /update instance/);
});

Deno.test("JAiRouter update: each field sent replaces the old one whole; null removes it", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const instanceId = `m@${setup.backend.url}`;
  const update = (instance: Record<string, unknown>) =>
    jai(url, "PUT", "/update/chat", {
      body: { instanceId, instance: { name: "m", baseUrl: setup.backend.url, ...instance } },
    });
  const limited = await update({
    rateLimit: { capacity: 10, rate: 5, clientIpEnable: true },
    status: "inactive",
  });
  assert.equal(limited.status, 200, JSON.stringify(limited.body));
  const first = await jai<JaiInstance & { status: string }>(
    url,
    "GET",
    `/info/chat${byId(instanceId)}`,
  );
  assert.equal(first.body.data.status, "inactive");
  assert.deepEqual(first.body.data.rateLimit, { capacity: 10, rate: 5, clientIpEnable: true });

  assert.equal((await update({ rateLimit: { capacity: 2, rate: 1 } })).status, 200);
  const replaced = await jai<JaiInstance>(url, "GET", `/info/chat${byId(instanceId)}`);
  assert.deepEqual(replaced.body.data.rateLimit, { capacity: 2, rate: 1 });

  assert.equal((await update({ rateLimit: null })).status, 200);
  const removed = await jai<JaiInstance>(url, "GET", `/info/chat${byId(instanceId)}`);
  assert.equal(removed.body.data.rateLimit, undefined);
});

Deno.test("JAiRouter update: a missing instance is 404, a body without one 400", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;

  const unknown = await jai(url, "PUT", "/update/chat", {
    body: { instanceId: "nope@http://127.0.0.1:9", instance: { weight: 5 } },
  });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.errorCode, "instance_not_found");

  const incomplete = [
    { instance: { weight: 5 } },
    { instanceId: `m@${setup.backend.url}` },
    { instanceId: `m@${setup.backend.url}`, instance: null },
  ];
  for (const body of incomplete) {
    const answer = await jai(url, "PUT", "/update/chat", { body });
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal(answer.body.errorCode, "invalid_request", JSON.stringify(body));
  }
  const versions = await adminCall<{ current: number }>(url, "GET", "/admin/config/versions");
  assert.equal(versions.body.current, 1);
});

Deno.test("JAiRouter delete: the instance leaves, and a chat to its model is 404", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;
  const instanceId = `m@${setup.backend.url}`;
  assert.deepEqual(await chat(url, "m"), { status: 200, backend: "backend" });

  const removed = await jai(url, "DELETE", `/del/chat${byId(instanceId)}`);
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  assert.equal(removed.body.success, true);

  const response = await postChat(url, { model: "m" });
  assert.equal(response.status, 404);
  await response.body?.cancel();
  assert.equal(setup.backend.requests.length, 1, "only the request before the delete");

  const listed = await jai<JaiInstance[]>(url, "GET", "/type/chat");
  assert.deepEqual(listed.body.data, []);
  const again = await jai(url, "DELETE", `/del/chat${byId(instanceId)}`);
  assert.equal(again.status, 404);
  assert.equal(again.body.errorCode, "instance_not_found");
  const missing = await jai(url, "DELETE", "/del/chat");
  assert.equal(missing.status, 400);
  assert.equal(missing.body.errorCode, "invalid_request");
});

Deno.test("JAiRouter bad input is refused in its wrapper, and nothing changes", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const url = setup.gateway.url;

  for (const [method, path] of [["POST", "/add/chat"], ["PUT", "/update/chat"]] as const) {
    const response = await fetch(`${url}${BASE}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: '{"name": "x", ',
    });
    const body: Wrapped<null> = await response.json();
    assertWrapped(body);
    assert.equal(response.status, 400, path);
    assert.equal(body.success, false, path);
    assert.equal(body.errorCode, "invalid_json", path);
  }

  const notObject = await jai(url, "POST", "/add/chat", { body: [{ name: "x" }] });
  assert.equal(notObject.status, 400);
  assert.equal(notObject.body.errorCode, "invalid_request");

  const zeroWeight = await jai(url, "POST", "/add/chat", {
    body: { name: "x", baseUrl: "http://127.0.0.1:9", path: null, weight: 0, rateLimit: null },
  });
  assert.equal(zeroWeight.status, 400);
  assert.equal(zeroWeight.body.success, false);
  assert.equal(zeroWeight.body.errorCode, "invalid_config");
  assert.match(zeroWeight.body.message, /weight/);

  const zeroUpdate = await jai(url, "PUT", "/update/chat", {
    body: { instanceId: `m@${setup.backend.url}`, instance: { weight: 0 } },
  });
  assert.equal(zeroUpdate.status, 400);
  assert.match(zeroUpdate.body.message, /weight/);

  const metadata = await jai(url, "POST", "/add/chat", {
    body: { name: "x", baseUrl: "http://169.254.169.254", path: null, weight: 1, rateLimit: null },
  });
  assert.equal(metadata.status, 400);
  assert.equal(metadata.body.success, false);
  assert.equal(metadata.body.errorCode, "forbidden_url");

  const moved = await jai(url, "PUT", "/update/chat", {
    body: {
      instanceId: `m@${setup.backend.url}`,
      instance: { baseUrl: "http://169.254.169.254/latest/meta-data" },
    },
  });
  assert.equal(moved.status, 400);
  assert.equal(moved.body.errorCode, "forbidden_url");

  const duplicate = await jai(url, "POST", "/add/chat", {
    body: { name: "m", baseUrl: setup.backend.url, path: null, weight: 1, rateLimit: null },
  });
  assert.equal(duplicate.status, 409);
  assert.equal(duplicate.body.errorCode, "instance_exists");

  for (const [method, path] of [["GET", "/type/video"], ["POST", "/add/video"]] as const) {
    const unknown = await jai(url, method, path, method === "POST" ? { body: {} } : {});
    assert.equal(unknown.status, 404, path);
    assert.equal(unknown.body.success, false, path);
    assert.equal(unknown.body.errorCode, "service_not_found", path);
  }

  const versions = await adminCall<{ current: number }>(url, "GET", "/admin/config/versions");
  assert.equal(versions.body.current, 1);
  const listed = await jai<JaiInstance[]>(url, "GET", "/type/chat");
  assert.deepEqual(listed.body.data.map((instance) => instance.weight), [1]);
  assert.equal(setup.backend.requests.length, 0);
});

Deno.test("JAiRouter endpoints need the admin key once one is configured", async () => {
  await using setup = await gatewayOverBackend((url) =>
    `admin:\n  keys:\n    - ops-key\n${oneService("chat", [url])}`
  );
  await using second = await startFakeBackend({ name: "second" });
  const url = setup.gateway.url;
  const instanceId = `m@${setup.backend.url}`;
  const add = { name: "big", baseUrl: second.url, path: null, weight: 2, rateLimit: null };
  const calls: [string, string, AdminInit][] = [
    ["GET", "/type/chat", {}],
    ["GET", `/info/chat${byId(instanceId)}`, {}],
    ["POST", "/add/chat", { body: add }],
    ["PUT", "/update/chat", { body: { instanceId, instance: { weight: 5 } } }],
    ["DELETE", `/del/chat${byId(instanceId)}`, {}],
  ];
  for (const [method, path, init] of calls) {
    for (const key of [undefined, "guess"]) {
      const refused = await jai(url, method, path, key === undefined ? init : { ...init, key });
      const label = `${method} ${path} ${key ?? "(no key)"}`;
      assert.equal(refused.status, 401, label);
      assert.equal(refused.body.success, false, label);
      assert.equal(refused.body.errorCode, "invalid_api_key", label);
    }
  }
  const challenged = await fetch(`${url}${BASE}/type/chat`);
  await challenged.body?.cancel();
  assert.equal(challenged.headers.get("www-authenticate"), 'Bearer realm="switchyard-admin"');
  const versions = await adminCall<{ current: number }>(url, "GET", "/admin/config/versions", {
    key: "ops-key",
  });
  assert.equal(versions.body.current, 1, "no refused call changed anything");

  const key = "ops-key";
  const listed = await jai<JaiInstance[]>(url, "GET", "/type/chat", { key });
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.data.map((instance) => instance.instanceId), [instanceId]);
  const added = await jai(url, "POST", "/add/chat", { key, body: add });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.deepEqual(await chat(url, "big"), { status: 200, backend: "second" });
  const updated = await jai(url, "PUT", "/update/chat", {
    key,
    body: { instanceId, instance: { weight: 5 } },
  });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  const shown = await jai<JaiInstance>(url, "GET", `/info/chat${byId(instanceId)}`, { key });
  assert.equal(shown.body.data.weight, 5);
  const removed = await jai(url, "DELETE", `/del/chat${byId(instanceId)}`, { key });
  assert.equal(removed.status, 200);

  const history = await adminCall<{ versions: { by: string; action: string }[] }>(
    url,
    "GET",
    "/admin/config/versions",
    { key },
  );
  const id = `chat/${instanceId}/v1/chat/completions`;
  assert.deepEqual(
    history.body.versions.slice(0, 3).map(({ by, action }) => `${by}: ${action}`),
    [
      `admin-1: remove instance ${id}`,
      `admin-1: update instance ${id}`,
      `admin-1: add instance chat/big@${second.url}`,
    ],
  );
});

Deno.test("JAiRouter's example config: its chat instances are listed as JAiRouter shows them", async () => {
  // JAiRouter's README example (config/examples/jairouter.yaml). Its instances point at
  // 172.16.30.6 and .7; nothing here sends them a request: no chat, and the health checks are off.
  const yaml = await Deno.readTextFile(`${REPO_ROOT}config/examples/jairouter.yaml`);
  await using gateway = await startGateway(yaml);
  const url = gateway.url;

  const chat = await jai<JaiInstance[]>(url, "GET", "/type/chat");
  assert.equal(chat.status, 200);
  assert.equal(chat.body.success, true);
  assert.deepEqual(chat.body.data, [
    {
      instanceId: "qwen3:1.7B@http://172.16.30.6:9090",
      name: "qwen3:1.7B",
      baseUrl: "http://172.16.30.6:9090",
      path: "/v1-openai/chat/completions",
      weight: 1,
    },
    {
      instanceId: "qwen3:1.7B@http://172.16.30.7:9090",
      name: "qwen3:1.7B",
      baseUrl: "http://172.16.30.7:9090",
      path: "/v1/chat/completions",
      weight: 1,
      rateLimit: {
        enabled: true,
        algorithm: "token-bucket",
        capacity: 50,
        rate: 5,
        scope: "instance",
      },
    },
  ]);
});

Deno.test("JAiRouter's example config: every instance answers to JAiRouter's own id", async () => {
  const yaml = await Deno.readTextFile(`${REPO_ROOT}config/examples/jairouter.yaml`);
  await using gateway = await startGateway(yaml);
  const url = gateway.url;
  const counts: Record<string, number> = {};
  for (const type of ["chat", "embedding", "rerank", "tts", "stt", "imgGen", "imgEdit"]) {
    const listed = await jai<JaiInstance[]>(url, "GET", `/type/${type}`);
    assert.equal(listed.status, 200, type);
    counts[type] = listed.body.data.length;
    for (const instance of listed.body.data) {
      // As JAiRouter builds it: name@baseUrl, the base URL as written.
      assert.equal(instance.instanceId, `${instance.name}@${instance.baseUrl}`);
      const found = await jai<JaiInstance>(url, "GET", `/info/${type}${byId(instance.instanceId)}`);
      assert.equal(found.status, 200, `${type} ${instance.instanceId}: ${found.body.message}`);
      assert.deepEqual(found.body.data, instance);
    }
  }
  assert.deepEqual(counts, {
    chat: 2,
    embedding: 3,
    rerank: 2,
    tts: 2,
    stt: 2,
    imgGen: 1,
    imgEdit: 1,
  });
});

Deno.test("JAiRouter v2.x instance-id: shown as instanceId, and names the instance as name@baseUrl does", async () => {
  await using setup = await gatewayOverBackend((url) =>
    [
      "model:",
      "  services:",
      "    chat:",
      "      instances:",
      "        - name: m",
      '          instance-id: "c09eb43b-5084-48bb-8fc8-3e5ab2505c31"',
      `          base-url: ${url}`,
      "        - name: m",
      '          instance-id: "77ce6597-a2d8-47f9-991e-331f05b036ea"',
      `          base-url: ${url}`,
      "          path: /v1/other",
    ].join("\n")
  );
  const url = setup.gateway.url;
  const listed = await jai<JaiInstance[]>(url, "GET", "/type/chat");
  assert.deepEqual(listed.body.data.map((instance) => instance.instanceId), [
    "c09eb43b-5084-48bb-8fc8-3e5ab2505c31",
    "77ce6597-a2d8-47f9-991e-331f05b036ea",
  ]);
  assert.ok(!("instance-id" in listed.body.data[0]!), "the id is shown once, as instanceId");
  const second = "77ce6597-a2d8-47f9-991e-331f05b036ea";
  const updated = await jai(url, "PUT", "/update/chat", {
    body: { instanceId: second, instance: { weight: 4 } },
  });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  const shown = await jai<JaiInstance>(url, "GET", `/info/chat${byId(second)}`);
  assert.equal(shown.body.data.weight, 4);
  assert.equal(shown.body.data.path, "/v1/other");
  // Both share name@baseUrl: that is refused rather than guessed.
  const ambiguous = await jai(url, "GET", `/info/chat${byId(`m@${setup.backend.url}`)}`);
  assert.equal(ambiguous.status, 409);
  const removed = await jai(url, "DELETE", `/del/chat${byId(second)}`);
  assert.equal(removed.status, 200);
  const byName = await jai<JaiInstance>(url, "GET", `/info/chat${byId(`m@${setup.backend.url}`)}`);
  assert.equal(byName.body.data.instanceId, "c09eb43b-5084-48bb-8fc8-3e5ab2505c31");
});

Deno.test("JAiRouter add: an instanceId sent with the instance names it from then on", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  await using second = await startFakeBackend({ name: "second" });
  const url = setup.gateway.url;

  const added = await jai(url, "POST", "/add/chat", {
    body: { instanceId: "gpu-7", name: "big", baseUrl: second.url },
  });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const shown = await jai<JaiInstance>(url, "GET", `/info/chat${byId("gpu-7")}`);
  assert.equal(shown.status, 200, JSON.stringify(shown.body));
  assert.deepEqual(shown.body.data, { instanceId: "gpu-7", name: "big", baseUrl: second.url });
  const removed = await jai(url, "DELETE", `/del/chat${byId("gpu-7")}`);
  assert.equal(removed.status, 200, JSON.stringify(removed.body));

  // The id JAiRouter derives anyway is not written down.
  const derived = `big@${second.url}`;
  await jai(url, "POST", "/add/chat", {
    body: { instanceId: derived, name: "big", baseUrl: second.url },
  });
  const config = await adminCall<{ config: { services: { chat: { instances: unknown[] } } } }>(
    url,
    "GET",
    "/admin/config",
  );
  assert.deepEqual(config.body.config.services.chat.instances.at(-1), {
    name: "big",
    "base-url": second.url,
  });

  const bad = await jai(url, "POST", "/add/chat", {
    body: { instanceId: 7, name: "other", baseUrl: second.url },
  });
  assert.equal(bad.status, 400);
  assert.match(JSON.stringify(bad.body), /instanceId must be a non-empty string/);
});
