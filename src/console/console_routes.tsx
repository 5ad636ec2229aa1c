/**
 * The operator console at `/console`: one page and its script and stylesheet, served from the
 * binary, and each view's fragment at `/admin/console/<view>`, behind the admin API's keys and
 * roles. The page holds no data; the script fetches the views with the admin key the operator
 * signs in with, and makes the admin API calls the views' controls name.
 * @module
 */
import type { Context } from "hono";
import { GatewayError } from "../errors.ts";
import type { GatewayApp, GatewayEnv } from "../gateway_env.ts";
import script from "./assets/console.js" with { type: "text" };
import copyScript from "./assets/copy.js" with { type: "text" };
import stylesheet from "./assets/console.css" with { type: "text" };
import { ConsolePage } from "./layout.tsx";
import type { ConsoleView } from "./view.ts";

/** The console's own files, by name under `/console/assets/`. */
const ASSETS: Readonly<Record<string, { readonly body: string; readonly type: string }>> = {
  "console.js": { body: script, type: "text/javascript; charset=utf-8" },
  "console.css": { body: stylesheet, type: "text/css; charset=utf-8" },
  "copy.js": { body: copyScript, type: "text/javascript; charset=utf-8" },
};

/**
 * What the console's page may load: only its own files, and calls to this gateway. Inline
 * scripts and styles are refused, so a value shown in a view can never run as code.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The playground plays the speech it is sent back.
  "media-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS = {
  "cache-control": "no-cache",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** What the console shows. */
export interface ConsoleDeps {
  readonly views: readonly ConsoleView[];
  readonly version: string;
  /** Further files under `/console/assets/`, such as a view's own script. */
  readonly assets?: Readonly<Record<string, { readonly body: string; readonly type: string }>>;
}

/**
 * Mounts `GET /console`, its files, and the views' fragments; call after the admin API's guard
 * is mounted on `/admin/*`, which the fragments are under.
 */
export function mountConsole(app: GatewayApp, deps: ConsoleDeps): void {
  const page = "<!doctype html>" +
    String(<ConsolePage views={deps.views} version={deps.version} />);
  const assets = { ...ASSETS, ...deps.assets };
  const views = new Map(deps.views.map((view) => [view.id, view]));
  app.get("/console", (c) => c.html(page, 200, PAGE_HEADERS));
  app.get("/console/", (c) => c.redirect("/console", 301));
  app.get("/console/assets/:file", (c) => {
    const asset = Object.hasOwn(assets, c.req.param("file"))
      ? assets[c.req.param("file")]
      : undefined;
    if (asset === undefined) {
      throw new GatewayError(404, "not_found", `No console file "${c.req.param("file")}"`);
    }
    return c.body(asset.body, 200, {
      "content-type": asset.type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
  });
  app.get("/admin/console/:view", async (c: Context<GatewayEnv>) => {
    const view = views.get(c.req.param("view") ?? "");
    if (view === undefined) {
      throw new GatewayError(404, "not_found", `No console view "${c.req.param("view")}"`, {
        param: "view",
      });
    }
    const fragment = await view.render(c);
    return c.html(String(fragment), 200, { "cache-control": "no-store" });
  });
}
