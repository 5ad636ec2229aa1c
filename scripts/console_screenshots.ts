/**
 * Screenshots of every console view, to look at: a gateway over two fake backends, with some
 * traffic, each view at 1280×800 light and dark and at phone width (390 px), written as PNG files
 * to the folder given (default `dist/console-screenshots`). Needs Chromium
 * (`scripts/chromium_setup.sh`, or `SWITCHYARD_CHROMIUM`).
 *
 *     deno task screenshots [folder]
 * @module
 */
import { chromium, type Page } from "playwright-core";
import { adminCall, instancePath } from "../tests/fixtures/admin.ts";
import { findChromium } from "../tests/fixtures/browser.ts";
import { startFakeBackend } from "../tests/fixtures/fake_backend.ts";
import { startGateway } from "../tests/fixtures/gateway.ts";
import { postChat } from "../tests/fixtures/requests.ts";

const ADMIN_KEY = "sk-console-admin";
const CLIENT_KEY = "sk-console-client";

const out = Deno.args[0] ?? "dist/console-screenshots";
const lookup = findChromium();
if (!lookup.found) {
  console.error(`No Chromium: ${lookup.reason}. Install it with scripts/chromium_setup.sh.`);
  Deno.exit(1);
}

await using fast = await startFakeBackend({ name: "fast" });
await using slow = await startFakeBackend({
  name: "slow",
  stream: { intervalMs: 20, tokens: ["Hello", " from", " the", " slow", " backend", "."] },
});
await using failing = await startFakeBackend({ name: "failing", failStatus: 500 });
// The demo traffic is spread over the last hour of the gateway's clock, for the live charts.
const HOUR = 3_600_000;
const started = Date.now();
/** The gateway's clock while the demo traffic runs; the real one after. */
let demoClock: number | undefined = started - HOUR;
await using gateway = await startGateway(
  JSON.stringify({
    admin: { keys: [{ id: "ops", key: ADMIN_KEY, role: "admin" }] },
    auth: {
      enabled: true,
      teams: [{
        id: "research",
        models: ["qwen3-8b", "llama3-70b", "bge-m3", "kokoro"],
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
            { name: "llama3-70b", "base-url": failing.url },
          ],
        },
        embedding: { instances: [{ name: "bge-m3", "base-url": fast.url }] },
        tts: { instances: [{ name: "kokoro", "base-url": fast.url }] },
      },
    },
  }),
  { now: () => demoClock ?? Date.now() },
);

// A step a bucket of ten seconds, with a rising and falling number of requests, some failing.
const STEPS = 360;
for (let step = 0; step < STEPS; step++) {
  demoClock = started - HOUR + (step * HOUR) / STEPS;
  const requests = 1 + Math.round(2 + 2 * Math.sin(step / 30));
  for (let i = 0; i < requests; i++) {
    const model = step % 23 === 0 && i === 0 ? "llama3-70b" : "qwen3-8b";
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        model,
        stream: i % 3 !== 2,
        messages: [{ role: "user", content: `Hello ${step}.${i}` }],
      }),
    });
    await response.text();
  }
}
demoClock = undefined;

/** What a view needs before it is worth a picture. */
const prepare: Record<string, (page: Page) => Promise<void>> = {
  async live(page) {
    await page.getByText(/updated/).waitFor();
  },
  async playground(page) {
    const key = page.getByLabel("Client API key for /v1");
    await key.fill(CLIENT_KEY);
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText(/at the gateway/).waitFor();
  },
};

for (let i = 0; i < 3; i++) {
  const response = await postChat(gateway.url, { model: "llama3-70b" }, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  });
  await response.body?.cancel();
}

/** Makes an admin API call for the demo, and fails the script when it is refused. */
async function admin(method: string, path: string, body?: unknown): Promise<void> {
  const answer = await adminCall(gateway.url, method, path, { body, key: ADMIN_KEY, ifMatch: "*" });
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(answer.body)}`);
}
await admin("PATCH", instancePath("chat", `qwen3-8b@${slow.url}/v1/chat/completions`), {
  weight: 3,
});
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
      await prepare[view]?.(page);
      const path = `${out}/${view}-${size.name}.png`;
      await page.screenshot({ path, fullPage: true });
      console.log(path);
    }
    await page.close();
  }
} finally {
  await browser.close();
}
