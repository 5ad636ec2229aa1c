/**
 * The console's operating views in a real browser: adding and draining instances and seeing
 * traffic follow, rolling back a version, creating and revoking a key, and a viewer refused.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./fixtures/browser.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { startGateway } from "./fixtures/gateway.ts";
import { chatStatusCode } from "./fixtures/requests.ts";

const ADMIN_KEY = "sk-console-ops-admin";
const OPERATOR_KEY = "sk-console-ops-operator";
const VIEWER_KEY = "sk-console-ops-viewer";
const CLIENT_KEY = "sk-console-ops-client";

function config(url: string): string {
  return JSON.stringify({
    admin: {
      keys: [
        { id: "root", key: ADMIN_KEY, role: "admin" },
        { id: "ops", key: OPERATOR_KEY, role: "operator" },
        { id: "watcher", key: VIEWER_KEY, role: "viewer" },
      ],
    },
    auth: { enabled: true, keys: [{ id: "app", key: CLIENT_KEY }] },
    model: {
      services: {
        chat: {
          "load-balance": { type: "round-robin" },
          instances: [{ name: "m", "base-url": url }],
        },
      },
    },
  });
}

async function signIn(page: Page, baseUrl: string, key: string, view: string): Promise<void> {
  await page.goto(`${baseUrl}/console#${view}`);
  await page.getByLabel("Admin key or admin token").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(`nav a[data-view="${view}"][aria-current="page"]`).waitFor();
  await page.locator('main[aria-busy="false"]').waitFor();
}

/** Shows the view again, as its refresh would. */
async function reshow(page: Page, view: string): Promise<void> {
  await page.evaluate(() => location.hash = "#overview");
  await page.locator('nav a[data-view="overview"][aria-current="page"]').waitFor();
  await page.evaluate((name) => location.hash = `#${name}`, view);
  await page.locator(`nav a[data-view="${view}"][aria-current="page"]`).waitFor();
  await page.locator('main[aria-busy="false"]').waitFor();
}

/** The status of a chat request with `key`. */
function chat(baseUrl: string, key = CLIENT_KEY): Promise<number> {
  return chatStatusCode(baseUrl, { headers: { authorization: `Bearer ${key}` } });
}

function posts(backend: { requests: readonly { method: string }[] }): number {
  return backend.requests.filter((request) => request.method === "POST").length;
}

browserTest("an operator adds an instance, sees traffic reach it, then drains it", async (page) => {
  await using first = await startFakeBackend({ name: "first" });
  await using second = await startFakeBackend({ name: "second" });
  await using gateway = await startGateway(config(first.url));
  await signIn(page, gateway.url, OPERATOR_KEY, "instances");

  const form = page.getByRole("form", { name: "Add an instance" });
  await form.getByLabel("Service").selectOption("chat");
  await form.getByLabel("Model name").fill("m");
  await form.getByLabel("Base URL").fill(second.url);
  await form.getByLabel("Weight").fill("1");
  await form.getByRole("button", { name: "Add instance" }).click();
  await page.getByText("Instance added; it takes requests now.").waitFor();
  const added = page.locator(`tr[data-instance="m@${second.url}/v1/chat/completions"]`);
  await added.waitFor();
  assert.equal(await added.locator("[data-requests]").innerText(), "0");

  for (let i = 0; i < 4; i++) assert.equal(await chat(gateway.url), 200);
  assert.equal(posts(second), 2, "round-robin sends every other request to the new instance");
  await reshow(page, "instances");
  assert.equal(await added.locator("[data-requests]").innerText(), "2");

  await added.getByRole("button", { name: /^Drain / }).click();
  await page.getByText(`Draining m@${second.url}/v1/chat/completions.`).waitFor();
  // The view is shown again after the notice: wait for the row to say so.
  await added.getByRole("cell", { name: "draining", exact: true }).waitFor();
  for (let i = 0; i < 4; i++) assert.equal(await chat(gateway.url), 200);
  assert.equal(posts(second), 2, "a drained instance gets no new request");
  assert.equal(posts(first), 6);

  // A change made elsewhere meanwhile: the console's call is refused, not written over it.
  const sideways = await fetch(`${gateway.url}/admin/services/chat`, {
    method: "PATCH",
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      "content-type": "application/json",
      "if-match": "*",
    },
    body: JSON.stringify({ "load-balance": { type: "random" } }),
  });
  assert.equal(sideways.status, 200);
  await added.getByRole("button", { name: /^Enable / }).click();
  await page.getByText(/The config changed since you read it: it is now version 4/).waitFor();
  // The view is shown again from the live version, and the same call now goes through.
  await page.locator('main[aria-busy="false"]').waitFor();
  await added.getByRole("button", { name: /^Enable / }).click();
  await page.getByText(`m@${second.url}/v1/chat/completions is active.`).waitFor();
});

browserTest("the reason typed for a change is kept with its version", async (page) => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  await signIn(page, gateway.url, OPERATOR_KEY, "instances");

  const why = page.getByLabel("Why (kept with the next change you make here)");
  await why.fill("GPU 1 reboots — 维护");
  const row = page.locator(`tr[data-instance="m@${backend.url}/v1/chat/completions"]`);
  await row.getByRole("button", { name: /^Drain / }).click();
  await page.getByText(`Draining m@${backend.url}/v1/chat/completions.`).waitFor();
  // Sent once: the field is empty for the next change.
  assert.equal(await why.inputValue(), "");

  await reshow(page, "versions");
  const version = page.locator('tr[data-version="2"]');
  assert.match(await version.locator("td.change").innerText(), /GPU 1 reboots — 维护/);
  const audit = page.getByRole("table", { name: "The latest admin writes, newest first" });
  assert.match(await audit.innerText(), /GPU 1 reboots — 维护/);
});

browserTest("an admin rolls back to an earlier version", async (page) => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  const id = encodeURIComponent(`m@${backend.url}/v1/chat/completions`);
  const changed = await fetch(`${gateway.url}/admin/services/chat/instances/${id}`, {
    method: "PATCH",
    headers: {
      authorization: `Bearer ${OPERATOR_KEY}`,
      "content-type": "application/json",
      "if-match": '"v1"',
    },
    body: JSON.stringify({ weight: 9 }),
  });
  assert.equal(changed.status, 200);
  await signIn(page, gateway.url, ADMIN_KEY, "versions");

  const second = page.locator('tr[data-version="2"]');
  assert.match(await second.innerText(), /ops\s+operator\s+update instance chat\//);
  await second.getByText("1 change").click();
  assert.match(await second.locator("details li").innerText(), /\.weight added 9/);

  page.once("dialog", (dialog) => dialog.accept());
  await page.locator('tr[data-version="1"]').getByRole("button", { name: "Roll back" }).click();
  await page.getByText("Rolled back to version 1.").waitFor();
  const third = page.locator('tr[data-version="3"]');
  assert.match(await third.innerText(), /root\s+admin\s+roll back to version 1/);
  assert.match(await third.innerText(), /live/);

  const live = await (await fetch(`${gateway.url}/admin/config`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  })).json();
  assert.equal(live.version, 3);
  assert.equal(live.config.services.chat.instances[0].weight, undefined);
});

browserTest("an admin creates a key, shown once and usable, then revokes it", async (page) => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  await signIn(page, gateway.url, ADMIN_KEY, "keys");

  const form = page.getByRole("form", { name: "Create a key" });
  await form.getByLabel("Key id").fill("alice");
  await form.getByLabel("Models (comma-separated)").fill("m");
  await form.getByRole("button", { name: "Create key" }).click();
  const reveal = page.getByRole("dialog", { name: "Shown once" });
  await reveal.waitFor();
  const key = await reveal.locator("#reveal-value").innerText();
  assert.match(key, /^\S{20,}$/);
  await reveal.getByRole("button", { name: "Done" }).click();
  const row = page.locator('tr[data-key="alice"]');
  await row.waitFor();
  assert.ok(!(await page.locator("main").innerHTML()).includes(key), "not shown again");
  assert.equal(await chat(gateway.url, key), 200);

  await row.getByText("Change").click();
  const change = page.getByRole("form", { name: "Change the key alice" });
  await change.getByLabel("Models (comma-separated)").fill("other");
  await change.getByRole("button", { name: "Save" }).click();
  await page.getByText("The key alice is changed.").waitFor();
  assert.equal(await chat(gateway.url, key), 403, "narrowed to another model");

  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: "Revoke" }).click();
  await page.getByText("The key alice is revoked.").waitFor();
  await row.waitFor({ state: "detached" });
  assert.equal(await chat(gateway.url, key), 401);
});

browserTest(
  "an admin creates a team, puts a key in it, and deletes it once empty",
  async (page) => {
    await using backend = await startFakeBackend();
    await using gateway = await startGateway(config(backend.url));
    await signIn(page, gateway.url, ADMIN_KEY, "keys");

    const team = page.getByRole("form", { name: "Create a team" });
    await team.getByLabel("Team id").fill("lab");
    await team.getByLabel("Models (comma-separated)").fill("other");
    await team.getByRole("button", { name: "Create team" }).click();
    await page.getByText("Team created.").waitFor();
    const teamRow = page.locator('tr[data-team="lab"]');
    await teamRow.waitFor();

    const form = page.getByRole("form", { name: "Create a key" });
    await form.getByLabel("Key id").fill("bob");
    await form.getByLabel("Team").selectOption("lab");
    await form.getByRole("button", { name: "Create key" }).click();
    const reveal = page.getByRole("dialog", { name: "Shown once" });
    await reveal.waitFor();
    const key = await reveal.locator("#reveal-value").innerText();
    await reveal.getByRole("button", { name: "Done" }).click();
    assert.equal(await chat(gateway.url, key), 403, "the team allows only the model other");

    page.once("dialog", (dialog) => dialog.accept());
    await teamRow.getByRole("button", { name: "Delete" }).click();
    await page.getByText(/The team "lab" still has keys \(bob\)/).waitFor();

    page.once("dialog", (dialog) => dialog.accept());
    await page.locator('tr[data-key="bob"]').getByRole("button", { name: "Revoke" }).click();
    await page.getByText("The key bob is revoked.").waitFor();
    page.once("dialog", (dialog) => dialog.accept());
    await page.locator('tr[data-team="lab"]').getByRole("button", { name: "Delete" }).click();
    await page.getByText("The team lab is deleted.").waitFor();
    await page.locator('tr[data-team="lab"]').waitFor({ state: "detached" });
  },
);

browserTest("a viewer's controls are disabled, and its calls refused", async (page) => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(config(backend.url));
  await signIn(page, gateway.url, VIEWER_KEY, "instances");

  const row = page.locator(`tr[data-instance="m@${backend.url}/v1/chat/completions"]`);
  for (const name of [/^Drain /, /^Set the weight /, /^Remove /]) {
    const button = row.getByRole("button", { name });
    assert.ok(await button.isDisabled(), String(name));
    assert.equal(
      await button.getAttribute("title"),
      "Needs the operator role; you have the viewer role",
    );
  }
  assert.ok(await page.getByRole("button", { name: "Add instance" }).isDisabled());
  await reshow(page, "keys");
  assert.ok(await page.getByRole("button", { name: "Create key" }).isDisabled());
  await reshow(page, "versions");

  // The admin API refuses the viewer's key whatever the page does.
  const refused = await page.evaluate(
    async (path) => {
      const response = await fetch(path, {
        method: "PATCH",
        headers: {
          authorization: `Bearer ${sessionStorage.getItem("switchyard.console.key")}`,
          "content-type": "application/json",
          "if-match": "*",
        },
        body: JSON.stringify({ status: "draining" }),
      });
      return { status: response.status, body: await response.json() };
    },
    `/admin/services/chat/instances/${encodeURIComponent(`m@${backend.url}/v1/chat/completions`)}`,
  );
  assert.equal(refused.status, 403);
  assert.match(refused.body.error.message, /needs the operator role/);
});

browserTest(
  "the errors view shows a failed request's id, to copy and find in the log",
  async (page) => {
    await using backend = await startFakeBackend({ failStatus: 503 });
    await using gateway = await startGateway(config(backend.url));
    const failed = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
    });
    await failed.body?.cancel();
    assert.equal(failed.status, 503);
    const requestId = failed.headers.get("x-request-id") ?? "";
    await signIn(page, gateway.url, VIEWER_KEY, "errors");

    const row = page.getByRole("row", { name: new RegExp(requestId) });
    assert.match(
      await row.innerText(),
      /chat\s+m\s+m@http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\s+503/,
    );
    await row.getByRole("button", { name: `Copy the request id ${requestId}` }).click();
    await page.locator("#notice").getByText(requestId).waitFor();
  },
);
