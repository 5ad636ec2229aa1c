/**
 * The docs page in a real browser: a key entered under Authorize goes with Try it out.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./fixtures/browser.ts";
import { startGateway } from "./fixtures/gateway.ts";

const CLIENT_KEY = "sk-docs-test-key";

const CONFIG = JSON.stringify({
  auth: { enabled: true, keys: [{ id: "docs", key: CLIENT_KEY }] },
  model: {
    services: { chat: { instances: [{ name: "m", "base-url": "http://127.0.0.1:9" }] } },
  },
});

/** Runs `GET /v1/models` with Try it out; the status the page shows. */
async function tryModels(page: Page): Promise<string> {
  const operation = page.locator(".opblock-get", {
    has: page.locator(".opblock-summary-path", { hasText: /^\/v1\/models$/ }),
  }).first();
  if (!(await operation.locator(".opblock-body").isVisible())) {
    await operation.locator(".opblock-summary").click();
  }
  const tryOut = operation.getByRole("button", { name: "Try it out" });
  if (await tryOut.isVisible()) await tryOut.click();
  const clear = operation.getByRole("button", { name: "Clear" });
  if (await clear.isVisible()) await clear.click();
  await operation.getByRole("button", { name: "Execute" }).click();
  const status = operation.locator(".live-responses-table tr.response .response-col_status");
  // The cell reads "401", then "Undocumented" for a status the document does not list.
  return (await status.first().innerText()).trim().split(/\s+/)[0]!;
}

browserTest("/docs sends the client key entered under Authorize", async (page) => {
  await using gateway = await startGateway(CONFIG);
  await page.goto(`${gateway.url}/docs`);

  assert.equal(await tryModels(page), "401");

  await page.getByRole("button", { name: "Authorize" }).first().click();
  const scheme = page.locator(".auth-container form", {
    has: page.locator("h4 code", { hasText: /^clientKey$/ }),
  });
  await scheme.locator("input").fill(CLIENT_KEY);
  await scheme.getByRole("button", { name: "Apply credentials" }).click();
  await page.getByRole("button", { name: "Close" }).first().click();

  assert.equal(await tryModels(page), "200");
  const models = await page.locator(".live-responses-table .microlight").first().innerText();
  assert.match(models, /"id": "m"/);
});
