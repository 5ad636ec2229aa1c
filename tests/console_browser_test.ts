/**
 * The console in a real browser: signing in with an admin key, the views and their roles.
 */
import assert from "node:assert/strict";
import { browserTest } from "./fixtures/browser.ts";
import { startGateway } from "./fixtures/gateway.ts";

const ADMIN_KEY = "sk-console-admin";
const VIEWER_KEY = "sk-console-viewer";

const CONFIG = JSON.stringify({
  admin: {
    keys: [
      { id: "root", key: ADMIN_KEY, role: "admin" },
      { id: "watcher", key: VIEWER_KEY, role: "viewer" },
    ],
  },
  model: {
    services: {
      chat: {
        instances: [
          { name: "m", "base-url": "http://127.0.0.1:9" },
          { name: "m", "base-url": "http://127.0.0.1:10" },
        ],
      },
    },
  },
});

browserTest("the console asks for an admin key, then shows who is signed in", async (page) => {
  await using gateway = await startGateway(CONFIG);
  await page.goto(`${gateway.url}/console`);

  const signIn = page.getByRole("dialog", { name: "Sign in" });
  await signIn.waitFor();
  await signIn.getByLabel("Admin key or admin token").fill("sk-wrong");
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Invalid admin key").waitFor();

  await signIn.getByLabel("Admin key or admin token").fill(VIEWER_KEY);
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("watcher · viewer").waitFor();
  const chat = page.getByRole("row", { name: /^chat/ });
  assert.deepEqual(await chat.getByRole("cell").allInnerTexts(), ["2", "2", "2", "0", "0"]);
  assert.equal(
    await page.getByRole("link", { name: "Overview" }).getAttribute("aria-current"),
    "page",
  );

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn.waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

browserTest(
  "the console's page runs no inline script and loads nothing from elsewhere",
  async (page) => {
    await using gateway = await startGateway(CONFIG);
    const outside: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(gateway.url)) outside.push(request.url());
    });
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(`${gateway.url}/console`);
    assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
    await page.getByRole("dialog", { name: "Sign in" }).waitFor();
    await page.getByLabel("Admin key or admin token").fill(ADMIN_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("root · admin").waitFor();
    assert.deepEqual(outside, []);
    assert.deepEqual(violations, []);
  },
);

browserTest("the console is used with the keyboard alone", async (page) => {
  await using gateway = await startGateway(CONFIG);
  await page.goto(`${gateway.url}/console`);
  await page.getByLabel("Admin key or admin token").waitFor();
  // The sign-in dialog takes the focus; typing and Enter sign in.
  await page.keyboard.type(ADMIN_KEY);
  await page.keyboard.press("Enter");
  await page.getByText("root · admin").waitFor();

  await page.locator("body").focus();
  await page.keyboard.press("Tab");
  const focused = page.locator(":focus");
  assert.equal(await focused.textContent(), "Skip to content");
  const names: string[] = [];
  for (let i = 0; i < 12 && !names.includes("Errors"); i++) {
    await page.keyboard.press("Tab");
    names.push((await focused.textContent())?.trim() ?? "");
  }
  assert.ok(names.includes("Errors"), names.join(", "));
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Recent errors" }).waitFor();
  assert.equal(await focused.getAttribute("id"), "view");
});
