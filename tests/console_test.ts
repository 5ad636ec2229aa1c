/**
 * The console over HTTP: its page and files are served to anyone, its views only to admins.
 */
import assert from "node:assert/strict";
import { startGateway } from "./fixtures/gateway.ts";

const CONFIG = JSON.stringify({
  admin: { keys: [{ id: "watcher", key: "sk-viewer", role: "viewer" }] },
  model: { services: { chat: { instances: [{ name: "m", "base-url": "http://127.0.0.1:9" }] } } },
});

Deno.test("the console page and its files are served from the binary", async () => {
  await using gateway = await startGateway(CONFIG);
  const page = await fetch(`${gateway.url}/console`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  const html = await page.text();
  assert.match(html, /<nav class="views" aria-label="Console views">/);
  assert.match(html, /href="#overview"/);

  const script = await fetch(`${gateway.url}/console/assets/console.js`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
  assert.match(await script.text(), /\/admin\/console\//);

  const missing = await fetch(`${gateway.url}/console/assets/nothing.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "not_found");
});

Deno.test("a console view needs an admin key", async () => {
  await using gateway = await startGateway(CONFIG);
  const anonymous = await fetch(`${gateway.url}/admin/console/overview`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();

  const headers = { authorization: "Bearer sk-viewer" };
  const view = await fetch(`${gateway.url}/admin/console/overview`, { headers });
  assert.equal(view.status, 200);
  assert.match(await view.text(), /<th scope="row">chat<\/th>/);

  const unknown = await fetch(`${gateway.url}/admin/console/nowhere`, { headers });
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json()).error.message, /No console view "nowhere"/);

  const whoami = await fetch(`${gateway.url}/admin/whoami`, { headers });
  assert.deepEqual(await whoami.json(), { id: "watcher", role: "viewer" });
});
