// The console's script: signs in with an admin key kept in this tab's session storage, shows the
// view the address names (`#overview`), refreshes it, and makes the admin API calls its
// controls name:
// - `button[data-url]`: calls `data-method` `data-url` with the JSON `data-body`, after
//   `data-confirm` is confirmed;
// - `form[data-url]`: sends its named fields as a JSON object (`data-type` on a field: `number`,
//   `json`, `list` for comma-separated text, `boolean` for a checkbox; a dotted name nests; an
//   empty field is left out); `{field}` in the URL is replaced by that field's value and the field
//   is not sent. `data-reveal="a.b"` shows that field of the answer once, for a new key;
// - `data-if-match` on either: sent as `If-Match`, the config version the view was rendered
//   from, so a change made meanwhile is refused (412) rather than overwritten; the view is then
//   shown again as it is now;
// - `[data-module="name"]`: loads `/console/assets/name.js` and calls its `mount(element, console)`,
//   which may return a function called when the view goes away.
// A view's root `data-refresh="s"` re-renders it every s seconds unless a control in it has focus.
// What is typed in a view's `[data-change-reason]` field goes with the next change as
// `X-Change-Reason`, kept across re-renders until that change is made.

const KEY = "switchyard.console.key";
const THEME = "switchyard.console.theme";

const view = document.getElementById("view");
const notice = document.getElementById("notice");
const signIn = document.getElementById("sign-in");
const signInForm = document.getElementById("sign-in-form");
const signedIn = document.getElementById("signed-in");
const signOut = document.getElementById("sign-out");

let refreshTimer;
/** Why the operator makes the next change: sent with it as `X-Change-Reason`, then cleared. */
let changeReason = "";
let unmounts = [];
let shown;

/** The headers that carry the admin key, if one is kept. */
function credentials() {
  const key = sessionStorage.getItem(KEY);
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Calls the gateway with the admin key; `body` is sent as JSON. */
export async function call(method, url, body, init = {}) {
  const headers = { ...credentials(), ...init.headers };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, {
    ...init,
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) askToSignIn(await errorMessage(response));
  return response;
}

/** The message of an error answer in OpenAI's shape, or its status. */
export async function errorMessage(response) {
  const text = await response.text();
  try {
    const message = JSON.parse(text)?.error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON: the status says it.
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** Shows what an action did, or why it failed. */
export function tell(message, failed = false) {
  notice.textContent = message;
  notice.classList.toggle("failed", failed);
  notice.hidden = false;
}

function askToSignIn(reason) {
  document.getElementById("sign-in-reason").textContent = reason ?? "";
  if (!signIn.open) signIn.showModal();
}

/** Everything a view's own module may use. */
const api = { call, errorMessage, tell, refresh: () => show(shown) };

function stopView() {
  clearTimeout(refreshTimer);
  for (const unmount of unmounts) unmount();
  unmounts = [];
}

/** Fetches and shows view `name`. */
async function show(name) {
  const current = document.querySelector(`nav a[data-view="${CSS.escape(name)}"]`) ??
    document.querySelector("nav a[data-view]");
  if (!current) return;
  name = current.dataset.view;
  const changed = name !== shown;
  shown = name;
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (link === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${current.textContent.trim()} · Switchyard console`;
  view.setAttribute("aria-busy", "true");
  let response;
  try {
    response = await call("GET", `/admin/console/${encodeURIComponent(name)}`);
  } catch (error) {
    tell(`The gateway did not answer: ${error.message}`, true);
    view.setAttribute("aria-busy", "false");
    return;
  }
  if (name !== shown) return;
  if (!response.ok) {
    const message = await errorMessage(response);
    stopView();
    view.replaceChildren(paragraph(message));
    view.setAttribute("aria-busy", "false");
    return;
  }
  const html = await response.text();
  if (name !== shown) return;
  stopView();
  view.innerHTML = html;
  view.setAttribute("aria-busy", "false");
  // The focus moves with the view as it is shown, not once its live parts have loaded.
  if (changed) view.focus({ preventScroll: true });
  const reason = view.querySelector("[data-change-reason]");
  if (reason) reason.value = changeReason;
  for (const element of view.querySelectorAll("[data-module]")) {
    const module = await import(`/console/assets/${element.dataset.module}.js`);
    const unmount = await module.mount(element, api);
    if (typeof unmount === "function") unmounts.push(unmount);
  }
  const every = Number(view.firstElementChild?.dataset.refresh);
  if (every > 0) refreshTimer = setTimeout(() => refreshWhenIdle(name), every * 1000);
}

function refreshWhenIdle(name) {
  if (name !== shown) return;
  const busy = view.contains(document.activeElement) && document.activeElement !== view;
  if (busy || document.hidden) {
    refreshTimer = setTimeout(() => refreshWhenIdle(name), 1000);
    return;
  }
  show(name);
}

function paragraph(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

/** The value of one form field, typed as its `data-type` says; undefined when empty. */
function fieldValue(field) {
  const type = field.dataset.type;
  if (field.type === "checkbox") return field.checked;
  const text = field.value.trim();
  if (text === "") return undefined;
  if (type === "number") return Number(text);
  if (type === "json") return JSON.parse(text);
  if (type === "list") return text.split(",").map((item) => item.trim()).filter(Boolean);
  return text;
}

/** A form's named fields as a JSON object, and its URL with `{field}` filled in. */
function formRequest(form) {
  const body = {};
  let url = form.dataset.url;
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    let value;
    try {
      value = fieldValue(field);
    } catch {
      throw new Error(`${field.labels?.[0]?.textContent ?? field.name} is not valid JSON`);
    }
    const placeholder = `{${field.name}}`;
    if (url.includes(placeholder)) {
      url = url.replace(placeholder, encodeURIComponent(value ?? ""));
      continue;
    }
    if (value === undefined) continue;
    const path = field.name.split(".");
    let target = body;
    for (const part of path.slice(0, -1)) target = target[part] ??= {};
    target[path.at(-1)] = value;
  }
  return { url, body };
}

async function act(control, method, url, body) {
  if (control.dataset.confirm && !confirm(control.dataset.confirm)) return;
  control.setAttribute("aria-busy", "true");
  try {
    const headers = {};
    if (control.dataset.ifMatch) headers["if-match"] = control.dataset.ifMatch;
    // Header values are Latin-1: the reason goes percent-encoded, and the gateway decodes it.
    if (changeReason) headers["x-change-reason"] = encodeURIComponent(changeReason);
    const response = await call(method, url, body, { headers });
    if (!response.ok) {
      tell(await errorMessage(response), true);
      if (response.status === 412) await show(shown);
      return;
    }
    const answer = response.headers.get("content-type")?.includes("json")
      ? await response.json()
      : undefined;
    const reveal = control.dataset.reveal;
    if (reveal && answer) {
      const value = reveal.split(".").reduce((at, part) => at?.[part], answer);
      document.getElementById("reveal-value").textContent = String(value ?? "");
      document.getElementById("reveal").showModal();
    }
    // The reason went with this change: the field is empty before the change is reported.
    changeReason = "";
    const reasonField = view.querySelector("[data-change-reason]");
    if (reasonField) reasonField.value = "";
    tell(control.dataset.done ?? "Done.");
    if (control instanceof HTMLFormElement) control.reset();
    await show(shown);
  } catch (error) {
    tell(error.message, true);
  } finally {
    control.removeAttribute("aria-busy");
  }
}

view.addEventListener("input", (event) => {
  if (event.target.matches?.("[data-change-reason]")) changeReason = event.target.value.trim();
});

view.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-url]");
  if (!button || button.disabled || !view.contains(button)) return;
  const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
  act(button, button.dataset.method ?? "POST", button.dataset.url, body);
});

view.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-url]");
  if (!form) return;
  event.preventDefault();
  let request;
  try {
    request = formRequest(form);
  } catch (error) {
    tell(error.message, true);
    return;
  }
  act(form, form.dataset.method ?? "POST", request.url, request.body);
});

async function whoAmI() {
  const response = await call("GET", "/admin/whoami");
  if (!response.ok) {
    signedIn.textContent = "";
    return false;
  }
  const { id, role } = await response.json();
  signedIn.textContent = `${id} · ${role}`;
  signOut.hidden = !sessionStorage.getItem(KEY);
  return true;
}

signInForm.addEventListener("submit", async () => {
  const key = new FormData(signInForm).get("key");
  sessionStorage.setItem(KEY, String(key));
  signInForm.reset();
  if (await whoAmI()) show(location.hash.slice(1));
});

signOut.addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  stopView();
  view.replaceChildren();
  signedIn.textContent = "";
  signOut.hidden = true;
  askToSignIn("Signed out.");
});

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

document.getElementById("theme").addEventListener("click", () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  const theme = dark ? "light" : "dark";
  localStorage.setItem(THEME, theme);
  applyTheme(theme);
});

addEventListener("hashchange", () => show(location.hash.slice(1)));
applyTheme(localStorage.getItem(THEME));
if (await whoAmI()) show(location.hash.slice(1));
