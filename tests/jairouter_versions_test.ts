/**
 * JAiRouter's config version endpoints under `/api/config/version`, over Switchyard's versions:
 * the list, one version, the current one, and applying one; in JAiRouter's wrapper, behind the
 * admin key.
 */
import assert from "node:assert/strict";
import { adminCall, type AdminInit, type Wrapped } from "./fixtures/admin.ts";
import { gatewayOverBackend, oneService } from "./fixtures/gateway.ts";
import { postChat } from "./fixtures/requests.ts";

const BASE = "/api/config/version";

async function jai<T>(url: string, method: string, path: string, init: AdminInit = {}) {
  const answer = await adminCall<Wrapped<T>>(url, method, `${BASE}${path}`, init);
  assert.deepEqual(
    Object.keys(answer.body).toSorted(),
    ["data", "errorCode", "message", "success", "timestamp"],
    JSON.stringify(answer.body),
  );
  return answer;
}

Deno.test("JAiRouter versions: list, current, one version, apply", async () => {
  await using setup = await gatewayOverBackend((url) => oneService("chat", [url]));
  const { url } = setup.gateway;
  // Version 2: weight 5.
  const patched = await adminCall(url, "PUT", "/api/config/instance/update/chat", {
    body: { instanceId: `m@${setup.backend.url}`, instance: { weight: 5 } },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));

  const list = await jai<number[]>(url, "GET", "");
  assert.equal(list.status, 200);
  assert.equal(list.body.success, true);
  assert.deepEqual(list.body.data, [1, 2]);

  const current = await jai<number>(url, "GET", "/current");
  assert.deepEqual([current.status, current.body.data], [200, 2]);

  const first = await jai<{ services: { chat: { instances: { weight: number }[] } } }>(
    url,
    "GET",
    "/1",
  );
  assert.equal(first.status, 200);
  assert.equal(first.body.data.services.chat.instances[0]?.weight, 1);

  const applied = await jai<number>(url, "POST", "/apply/1");
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  assert.equal(applied.body.success, true);
  assert.equal(applied.body.data, 3);
  const after = await jai<number>(url, "GET", "/current");
  assert.equal(after.body.data, 3);
  const live = await jai<{ services: { chat: { instances: { weight: number }[] } } }>(
    url,
    "GET",
    "/3",
  );
  assert.equal(live.body.data.services.chat.instances[0]?.weight, 1);
  const response = await postChat(url, { model: "m" });
  assert.equal(response.status, 200);
  await response.body?.cancel();

  const missing = await jai<null>(url, "GET", "/99");
  assert.deepEqual([missing.status, missing.body.success, missing.body.errorCode], [
    404,
    false,
    "version_not_found",
  ]);
  const bad = await jai<null>(url, "POST", "/apply/latest");
  assert.deepEqual([bad.status, bad.body.errorCode], [400, "invalid_request"]);
});

Deno.test("JAiRouter version endpoints need the admin key once one is configured", async () => {
  await using setup = await gatewayOverBackend((url) =>
    `admin:\n  keys:\n    - ops-key\n${oneService("chat", [url])}`
  );
  const { url } = setup.gateway;
  for (
    const [method, path] of [["GET", ""], ["GET", "/current"], ["GET", "/1"], ["POST", "/apply/1"]]
  ) {
    for (const key of [undefined, "guess"]) {
      const refused = await jai<null>(url, method!, path!, key === undefined ? {} : { key });
      const label = `${method} ${path} ${key ?? "(no key)"}`;
      assert.equal(refused.status, 401, label);
      assert.equal(refused.body.errorCode, "invalid_api_key", label);
    }
    const allowed = await jai<unknown>(url, method!, path!, { key: "ops-key" });
    assert.equal(allowed.status, 200, `${method} ${path}`);
  }
});
