/**
 * The console's Live and Playground fragments over HTTP: what they are rendered with, for an
 * admin of any role.
 */
import assert from "node:assert/strict";
import { startGateway } from "./fixtures/gateway.ts";

const VIEWER = { authorization: "Bearer sk-viewer" };

function config(auth: boolean): string {
  return JSON.stringify({
    admin: { keys: [{ id: "watcher", key: "sk-viewer", role: "viewer" }] },
    auth: { enabled: auth, keys: [{ id: "demo", key: "sk-client" }] },
    model: {
      services: {
        chat: { instances: [{ name: "qwen3-8b", "base-url": "http://127.0.0.1:9" }] },
        tts: { instances: [{ name: "kokoro", "base-url": "http://127.0.0.1:9" }] },
      },
    },
  });
}

Deno.test("the live view has a chart with a caption for each series, and its script", async () => {
  await using gateway = await startGateway(config(false));
  const view = await fetch(`${gateway.url}/admin/console/live`, { headers: VIEWER });
  assert.equal(view.status, 200);
  const html = await view.text();
  assert.match(html, /data-module="live"/);
  for (const title of ["Requests", "Errors", "Time to first token", "Inter-token latency"]) {
    assert.match(html, new RegExp(`<h2 id="chart-[a-z]+-title">${title}</h2>`));
  }
  assert.equal(html.match(/<figcaption/g)?.length, 6);
  assert.match(html, /<option value="">All services<\/option><option key="chat" value="chat">/);
  assert.doesNotMatch(html, /value="embedding"/, "only services with instances");

  const script = await fetch(`${gateway.url}/console/assets/live.js`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /export function mount/);
});

Deno.test("the playground offers each model for its services, and a client key field with auth", async () => {
  await using open = await startGateway(config(false));
  const html = await (await fetch(`${open.url}/admin/console/playground`, { headers: VIEWER }))
    .text();
  assert.match(html, /<option key="qwen3-8b" value="qwen3-8b" data-services="chat completion/);
  assert.match(html, /<option key="kokoro" value="kokoro" data-services="tts">/);
  assert.match(html, /value="embedding" data-service="embedding" +disabled>/, "no embedding model");
  assert.doesNotMatch(html, /Client API key/);

  await using guarded = await startGateway(config(true));
  const withAuth = await (
    await fetch(`${guarded.url}/admin/console/playground`, { headers: VIEWER })
  ).text();
  assert.match(withAuth, /<label for="playground-client-key">Client API key for \/v1<\/label>/);

  const script = await fetch(`${open.url}/console/assets/playground.js`);
  assert.equal(script.status, 200);
  const page = await fetch(`${open.url}/console`);
  assert.match(page.headers.get("content-security-policy") ?? "", /media-src 'self' blob:/);
  await page.body?.cancel();
});
