/**
 * The console's live charts and playground in a real browser: a chat streamed through the
 * gateway arrives piece by piece with the instance that served it and its time to first token;
 * the charts show the requests sent while they are open, without a reload.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./fixtures/browser.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { gates } from "./fixtures/gate.ts";
import { startGateway } from "./fixtures/gateway.ts";

const ADMIN_KEY = "sk-console-admin";
const CLIENT_KEY = "sk-console-client";
const TOKENS = ["Hel", "lo", " wor", "ld"];

function config(backendUrl: string): string {
  return JSON.stringify({
    admin: { keys: [{ id: "root", key: ADMIN_KEY, role: "admin" }] },
    auth: { enabled: true, keys: [{ id: "demo", key: CLIENT_KEY }] },
    model: {
      services: {
        chat: { instances: [{ name: "qwen3-8b", "base-url": backendUrl }] },
        embedding: { instances: [{ name: "bge-m3", "base-url": backendUrl }] },
        tts: { instances: [{ name: "kokoro", "base-url": backendUrl }] },
      },
    },
  });
}

async function signIn(page: Page, url: string, view: string): Promise<void> {
  await page.goto(`${url}/console#${view}`);
  await page.getByLabel("Admin key or admin token").fill(ADMIN_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("root · admin").waitFor();
  await page.locator('main[aria-busy="false"]').waitFor();
}

browserTest(
  "the playground streams a chat piece by piece, then names who served it",
  async (page) => {
    const held = gates(TOKENS.length + 1);
    held[0]!.open();
    await using backend = await startFakeBackend({
      name: "streamer",
      stream: { tokens: TOKENS, gates: held },
    });
    await using gateway = await startGateway(config(backend.url));
    await signIn(page, gateway.url, "playground");

    await page.getByLabel("Client API key for /v1").fill(CLIENT_KEY);
    await page.getByLabel("Model").selectOption("qwen3-8b");
    await page.getByLabel("Message").fill("Say hello");
    await page.getByRole("button", { name: "Send" }).click();

    const answer = page.locator("[data-answer]");
    await answer.getByText("Hel", { exact: true }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Stop" }).isEnabled(), true);
    held[1]!.open();
    await answer.getByText("Hello", { exact: true }).waitFor();
    held[2]!.open();
    await answer.getByText("Hello wor", { exact: true }).waitFor();
    held[3]!.open();
    held[4]!.open();
    await answer.getByText("Hello world", { exact: true }).waitFor();

    const fact = (name: string) => page.locator(`[data-fact="${name}"]`);
    await fact("instance").getByText(`qwen3-8b@${backend.url}/v1/chat/completions`).waitFor();
    assert.equal(await fact("status").innerText(), "200 OK");
    assert.equal(await fact("attempts").innerText(), "1");
    assert.match(await fact("ttft").innerText(), /^\d+ ms in the browser, \d+ ms at the gateway$/);
    assert.match(await fact("total").innerText(), /^\d+ ms$/);
    assert.equal(await page.getByRole("button", { name: "Stop" }).isEnabled(), false);

    // What was sent.
    const sent = backend.requests[0]!;
    assert.equal(JSON.parse(new TextDecoder().decode(sent.body)).stream, true);
    assert.match(await page.locator('[data-raw="request"]').textContent() ?? "", /"stream": true/);
    assert.match(
      await page.locator('[data-raw="headers"]').textContent() ?? "",
      /^x-request-id: /m,
    );
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem("switchyard.console.client-key")),
      CLIENT_KEY,
    );
  },
);

browserTest("the playground's Stop button ends a stream midway", async (page) => {
  const held = gates(TOKENS.length + 1);
  held[0]!.open();
  await using backend = await startFakeBackend({
    name: "streamer",
    stream: { tokens: TOKENS, gates: held },
  });
  await using gateway = await startGateway(config(backend.url));
  await signIn(page, gateway.url, "playground");
  await page.getByLabel("Client API key for /v1").fill(CLIENT_KEY);
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("[data-answer]").getByText("Hel", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByText("Stopped.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Send" }).isEnabled(), true);
  for (const gate of held) gate.open();
});

browserTest(
  "the playground embeds text and plays speech, within the page's policy",
  async (page) => {
    await using backend = await startFakeBackend({ name: "backend" });
    await using gateway = await startGateway(config(backend.url));
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await signIn(page, gateway.url, "playground");
    await page.getByLabel("Client API key for /v1").fill(CLIENT_KEY);

    await page.getByRole("radio", { name: "Embedding" }).check();
    assert.equal(await page.getByLabel("Model").inputValue(), "bge-m3", "only embedding models");
    await page.getByLabel("Input").fill("fox");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("[data-answer]");
    await answer.getByText("3 dimensions").waitFor();
    assert.match(await answer.locator("pre").innerText(), /^0\.250000\n-0\.500000\n1\.000000$/);

    await page.getByRole("radio", { name: "Speech" }).check();
    assert.equal(await page.getByLabel("Model").inputValue(), "kokoro");
    await page.getByLabel("Text to speak").fill("Hello");
    await page.getByRole("button", { name: "Send" }).click();
    await answer.getByText(/bytes of audio\/mpeg/).waitFor();
    assert.match(await answer.getByLabel("The spoken answer").getAttribute("src") ?? "", /^blob:/);
    assert.deepEqual(violations, []);
  },
);

browserTest("the live charts show the requests sent while they are open", async (page) => {
  await using backend = await startFakeBackend({ name: "streamer" });
  await using gateway = await startGateway(config(backend.url));
  // Polled every 0.1 s rather than every 5, for the test.
  await page.route("**/admin/console/live", async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace('data-every="5"', 'data-every="0.1"');
    await route.fulfill({ response, body });
  });
  await signIn(page, gateway.url, "live");
  const requests = page.getByRole("figure", { name: "Requests" });
  await requests.getByText(/updated|Last hour/).first().waitFor();
  await requests.locator("[data-now]").getByText("0 req/s").waitFor();
  await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen3-8b", stream: true, messages: [] }),
    });
    await response.text();
  }
  await requests.locator("[data-now]").getByText(/^(?!0 )[\d.]+ req\/s$/).waitFor();
  assert.match(await requests.locator("figcaption").innerText(), /highest (?!0,)[\d.]+/);
  assert.match(await requests.locator("path").first().getAttribute("d") ?? "", /M\d+ /);
  const ttft = page.getByRole("figure", { name: "Time to first token" });
  await ttft.locator("figcaption").getByText(/p50: lowest \d/).waitFor();
  assert.equal(await page.evaluate(() => "notReloaded" in globalThis), true);
});
