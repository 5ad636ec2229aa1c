/**
 * Screenshots of every console view, to look at: a gateway over two fake backends, with some
 * traffic, each view at 1280×800 light and dark and at phone width (390 px), written as PNG files
 * to the folder given (default `dist/console-screenshots`). Needs Chromium
 * (`scripts/chromium_setup.sh`, or `SWITCHYARD_CHROMIUM`).
 *
 *     deno task screenshots [folder]
 * @module
 */
import { chromium } from "playwright-core";
import { findChromium } from "../tests/fixtures/browser.ts";
import { startFakeBackend } from "../tests/fixtures/fake_backend.ts";
import { startGateway } from "../tests/fixtures/gateway.ts";

const ADMIN_KEY = "sk-console-admin";
const CLIENT_KEY = "sk-console-client";

const out = Deno.args[0] ?? "dist/console-screenshots";
const lookup = findChromium();
if (!lookup.found) {
  console.error(`No Chromium: ${lookup.reason}. Install it with scripts/chromium_setup.sh.`);
  Deno.exit(1);
}

await using fast = await startFakeBackend({ name: "fast" });
await using slow = await startFakeBackend({ name: "slow", stream: { intervalMs: 20 } });
await using failing = await startFakeBackend({ name: "failing", failStatus: 503 });
await using gateway = await startGateway(JSON.stringify({
  admin: { keys: [{ id: "ops", key: ADMIN_KEY, role: "admin" }] },
  auth: {
    enabled: true,
    teams: [{
      id: "research",
      models: ["qwen3-8b", "llama-3.1-70b", "bge-m3"],
      budget: { "tokens-per-day": 2e6 },
    }],
    keys: [{ id: "demo", key: CLIENT_KEY, team: "research" }],
  },
  model: {
    services: {
      chat: {
        "load-balance": { type: "fastest" },
        instances: [
          { name: "qwen3-8b", "base-url": fast.url, weight: 2 },
          { name: "qwen3-8b", "base-url": slow.url },
          { name: "llama-3.1-70b", "base-url": failing.url },
        ],
      },
      embedding: { instances: [{ name: "bge-m3", "base-url": fast.url }] },
    },
  },
}));

for (let i = 0; i < 40; i++) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "qwen3-8b",
      stream: i % 2 === 0,
      messages: [{ role: "user", content: `Hello ${i}` }],
    }),
  });
  await response.body?.cancel();
}

for (let i = 0; i < 3; i++) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "llama-3.1-70b", messages: [{ role: "user", content: "Hi" }] }),
  });
  await response.body?.cancel();
}

/** Makes an admin API call for the demo, and fails the script when it is refused. */
async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      "content-type": "application/json",
      "if-match": "*",
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${await response.text()}`);
  await response.body?.cancel();
}
const slowId = encodeURIComponent(`qwen3-8b@${slow.url}/v1/chat/completions`);
await admin("PATCH", `/admin/services/chat/instances/${slowId}`, { weight: 3 });
await admin("POST", "/admin/keys", {
  id: "alice",
  models: ["qwen3-8b"],
  "rate-limit": { rate: 5, capacity: 10 },
  budget: { "requests-per-day": 1000 },
});

await Deno.mkdir(out, { recursive: true });
const browser = await chromium.launch({ executablePath: lookup.binary });
try {
  const sizes = [
    { name: "desktop-light", width: 1280, height: 800, colorScheme: "light" },
    { name: "desktop-dark", width: 1280, height: 800, colorScheme: "dark" },
    { name: "phone", width: 390, height: 844, colorScheme: "light" },
  ] as const;
  for (const size of sizes) {
    const page = await browser.newPage({
      viewport: { width: size.width, height: size.height },
      colorScheme: size.colorScheme,
    });
    await page.goto(`${gateway.url}/console`);
    await page.getByLabel("Admin key or admin token").fill(ADMIN_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("ops · admin").waitFor();
    const views = await page.locator("nav a[data-view]").evaluateAll((links) =>
      links.map((link) => link.getAttribute("data-view") ?? "")
    );
    for (const view of views) {
      await page.goto(`${gateway.url}/console#${view}`);
      await page.locator(`nav a[data-view="${view}"][aria-current="page"]`).waitFor();
      await page.locator('main[aria-busy="false"]').waitFor();
      const path = `${out}/${view}-${size.name}.png`;
      await page.screenshot({ path, fullPage: true });
      console.log(path);
    }
    await page.close();
  }
} finally {
  await browser.close();
}
