/**
 * The console's operating views over HTTP: instances, config versions, keys and teams, and
 * recent errors, each rendered from the state the admin API reads, with controls that call the
 * admin API as the role asking may.
 */
import assert from "node:assert/strict";
import { adminCall, instancePath } from "./fixtures/admin.ts";
import { startVllm } from "./fixtures/backends/mod.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { eventually } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const ADMIN_KEY = "sk-ops-admin-0001";
const OPERATOR_KEY = "sk-ops-operator-1";
const VIEWER_KEY = "sk-ops-viewer-001";
const CLIENT_KEY = "sk-ops-client-001";

function config(url: string): string {
  return JSON.stringify({
    admin: {
      keys: [
        { id: "root", key: ADMIN_KEY, role: "admin" },
        { id: "ops", key: OPERATOR_KEY, role: "operator" },
        { id: "watcher", key: VIEWER_KEY, role: "viewer" },
      ],
    },
    auth: {
      enabled: true,
      teams: [{ id: "research", models: ["m", "gone"], budget: { "requests-per-day": 500 } }],
      keys: [{ id: "app", key: CLIENT_KEY, team: "research" }],
    },
    model: {
      services: {
        chat: {
          instances: [
            { name: "m", "base-url": url, "circuit-breaker": { failureThreshold: 5 } },
            { name: "gone", "base-url": "http://127.0.0.1:9" },
          ],
        },
      },
    },
  });
}

async function fragment(baseUrl: string, view: string, key: string): Promise<string> {
  const response = await fetch(`${baseUrl}/admin/console/${view}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(response.status, 200, `GET /admin/console/${view}`);
  return await response.text();
}

/** A chat request for `model` with `key`, its body dropped. */
async function chat(baseUrl: string, model: string, key = CLIENT_KEY): Promise<Response> {
  const response = await postChat(baseUrl, { model }, {
    headers: { authorization: `Bearer ${key}` },
  });
  await response.body?.cancel();
  return response;
}

/** The `<tr>` of the element whose `attribute` is `value`. */
function rowOf(html: string, attribute: string, value: string): string {
  const start = html.indexOf(`${attribute}="${value}"`);
  assert.ok(start >= 0, `no row with ${attribute}="${value}"`);
  return html.slice(start, html.indexOf("</tr>", start));
}

/** The buttons of an HTML fragment, by their visible text: whether each is disabled. */
function buttons(html: string): Map<string, boolean> {
  const found = new Map<string, boolean>();
  for (const match of html.matchAll(/<button([^>]*)>([^<]*)<\/button>/g)) {
    found.set(match[2]!.trim(), /\sdisabled(?:[\s=>]|$)/.test(match[1]!));
  }
  return found;
}

Deno.test("the instances view shows each instance's state and the controls of its role", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  assert.equal((await chat(gateway.url, "m")).status, 200);
  const id = `m@${backend.url}/v1/chat/completions`;

  const asOperator = await fragment(gateway.url, "instances", OPERATOR_KEY);
  const row = rowOf(asOperator, "data-instance", id);
  assert.match(row, /<td class="status-active">active<\/td>/);
  assert.match(row, /<td class="status-closed">closed<\/td>/);
  assert.match(row, /<span data-requests="true">1<\/span>/);
  assert.match(row, new RegExp(`data-url="${instancePath("chat", id)}"`));
  assert.match(row, /data-body="\{&quot;status&quot;:&quot;draining&quot;\}"/);
  assert.match(row, /data-if-match="&quot;v1&quot;"/);
  assert.deepEqual(Object.fromEntries(buttons(row)), {
    Drain: false,
    "Reset breaker": false,
    "Set weight": false,
    Remove: false,
  });
  assert.equal(buttons(asOperator).get("Add instance"), false);

  const asViewer = await fragment(gateway.url, "instances", VIEWER_KEY);
  const viewerRow = rowOf(asViewer, "data-instance", id);
  assert.ok([...buttons(viewerRow).values()].every((disabled) => disabled));
  assert.equal(buttons(asViewer).get("Add instance"), true);
  assert.match(viewerRow, /title="Needs the operator role; you have the viewer role"/);

  // Drained through the admin API, the view shows it, and offers to enable it again.
  const drained = await adminCall(gateway.url, "PATCH", instancePath("chat", id), {
    key: OPERATOR_KEY,
    ifMatch: '"v1"',
    body: { status: "draining" },
  });
  assert.equal(drained.status, 200);
  const after = rowOf(await fragment(gateway.url, "instances", OPERATOR_KEY), "data-instance", id);
  assert.match(after, /<td class="status-draining">draining<\/td>/);
  assert.match(after, /data-body="\{&quot;status&quot;:&quot;active&quot;\}"/);
  assert.match(after, /data-if-match="&quot;v2&quot;"/);
});

Deno.test("the instances view shows the load a backend reports", async () => {
  await using vllm = await startVllm({ name: "busy", models: ["qwen"] });
  vllm.setLoad({ running: 8, waiting: 12, kvCacheUsage: 0.9 });
  await using gateway = await startGateway(JSON.stringify({
    admin: { keys: [{ id: "watcher", key: VIEWER_KEY, role: "viewer" }] },
    model: {
      services: {
        chat: {
          "load-balance": { type: "least-load", "load-interval": 100 },
          instances: [{ name: "qwen", "base-url": vllm.url, adapter: "vllm" }],
        },
      },
    },
  }));
  await eventually(async () => {
    const html = await fragment(gateway.url, "instances", VIEWER_KEY);
    const row = rowOf(html, "data-instance", `qwen@${vllm.url}/v1/chat/completions`);
    assert.match(row, /<td>vllm<\/td>/);
    assert.match(
      row,
      /8 running<\/span><span class="block">12 waiting<\/span><span class="block">KV cache 90%/,
    );
  }, 2_000);
});

Deno.test("the versions view shows who changed what, the diff, and a rollback", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const id = `m@${backend.url}/v1/chat/completions`;
  const changed = await adminCall(gateway.url, "PATCH", instancePath("chat", id), {
    key: OPERATOR_KEY,
    ifMatch: '"v1"',
    body: { weight: 7 },
  });
  assert.equal(changed.status, 200);

  const html = await fragment(gateway.url, "versions", VIEWER_KEY);
  const second = rowOf(html, "data-version", "2");
  assert.match(second, /<td>ops<\/td><td>operator<\/td>/);
  assert.match(second, /update instance chat\//);
  assert.match(second, /1 change/);
  assert.match(
    second,
    /services\.chat\.instances\[[^\]]+\]\.weight<\/code> added <code class="after">7<\/code>/,
  );
  const first = rowOf(html, "data-version", "1");
  assert.match(first, /the first version/);
  assert.match(first, /data-url="\/admin\/config\/versions\/1\/apply"/);
  assert.match(first, /data-if-match="&quot;v2&quot;"/);
  assert.equal(buttons(first).get("Roll back"), true, "a viewer may not roll back");
  assert.match(html, /Audit trail/);

  const asAdmin = await fragment(gateway.url, "versions", ADMIN_KEY);
  assert.equal(buttons(rowOf(asAdmin, "data-version", "1")).get("Roll back"), false);
  assert.equal(buttons(rowOf(asAdmin, "data-version", "2")).get("Roll back"), undefined);
});

Deno.test("the keys view never shows a key, and shows each key's and team's use", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const created = await adminCall<{ key: string }>(gateway.url, "POST", "/admin/keys", {
    key: ADMIN_KEY,
    body: { id: "alice", team: "research", "rate-limit": { rate: 2, capacity: 4 } },
  });
  assert.equal(created.status, 201);
  for (const key of [CLIENT_KEY, CLIENT_KEY, created.body.key]) {
    assert.equal((await chat(gateway.url, "m", key)).status, 200);
  }

  const html = await fragment(gateway.url, "keys", ADMIN_KEY);
  assert.ok(!html.includes(created.body.key), "the created key is not shown");
  assert.ok(!html.includes(CLIENT_KEY), "the configured key is not shown");
  const alice = rowOf(html, "data-key", "alice");
  assert.match(alice, /2\/s, burst 4/);
  assert.match(alice, /created .* by root/);
  assert.equal(buttons(alice).get("Revoke"), false);
  assert.match(rowOf(html, "data-key", "app"), /change it in the config file/);
  assert.match(
    html,
    /<th scope="row">research<span class="muted small block">in the config file<\/span><\/th><td>2<\/td><td>m, gone<\/td>/,
  );
  assert.match(html, /500 requests a day/);
  const usage = (subject: string) =>
    [...rowOf(html, "data-usage", subject).matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.deepEqual(usage("key:app").filter((_, i) => i % 3 === 0), ["2", "2"]);
  assert.deepEqual(usage("key:alice").filter((_, i) => i % 3 === 0), ["1", "1"]);
  assert.deepEqual(usage("team:research").filter((_, i) => i % 3 === 0), ["3", "3"]);

  const asOperator = await fragment(gateway.url, "keys", OPERATOR_KEY);
  assert.equal(buttons(rowOf(asOperator, "data-key", "alice")).get("Revoke"), true);
  assert.equal(buttons(asOperator).get("Create key"), true);
});

Deno.test("the errors view lists failed requests with their request id and message", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const failed = await chat(gateway.url, "gone");
  assert.equal(failed.status, 502);
  const requestId = failed.headers.get("x-request-id") ?? "";
  assert.notEqual(requestId, "");
  assert.equal((await chat(gateway.url, "m")).status, 200);

  const html = await fragment(gateway.url, "errors", VIEWER_KEY);
  const row = rowOf(html, "data-request-id", requestId);
  assert.match(row, new RegExp(`<code class="request-id">${requestId}</code>`));
  assert.match(row, new RegExp(`data-copy="${requestId}"`));
  assert.match(row, /<td>chat<\/td><td>gone<\/td>/);
  assert.match(row, /gone@http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions/);
  assert.match(row, /502/);
  assert.match(row, /<code>[a-z_]+<\/code><span class="block">[^<]+<\/span>/);
  assert.equal([...html.matchAll(/data-request-id=/g)].length, 1, "only the failed request");

  const status = await (await fetch(`${gateway.url}/status.json`, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  })).json();
  const listed = status.recentErrors[0];
  assert.equal(listed.requestId, requestId);
  assert.notEqual(listed.message, "");
  assert.equal(listed.outcome, "complete");
});
