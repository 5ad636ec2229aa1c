/**
 * `/admin/config`: the live config, its versions, a diff between two, replacing it, rolling
 * back to an earlier version; and `/admin/audit`, the trail of admin writes.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { diffConfigs } from "../config/diff.ts";
import type { ConfigEdit } from "../config/live_config.ts";
import { isJsonObject, type JsonObject } from "../lib/json.ts";
import { GatewayError } from "../errors.ts";
import { UnsealError } from "../store/secret_box.ts";
import type { GatewayApp } from "../gateway_env.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import {
  ADMIN_ERRORS,
  type AdminDeps,
  commitChange,
  IfMatchHeader,
  jsonContent,
  readJsonObject,
  WRITE_ERRORS,
} from "./admin_api.ts";
import { etagOf } from "./preconditions.ts";
import { ADMIN_ROLES } from "./roles.ts";
import { instancesOf } from "./instance_edits.ts";
import { refuseForbiddenUrl } from "./routes_services.ts";

const VersionInfo = z.object({
  version: z.number().int(),
  at: z.string(),
  by: z.string(),
  action: z.string(),
  reason: z.string().optional().describe("why, as the X-Change-Reason header of the change said"),
}).openapi("ConfigVersionInfo");
const Version = VersionInfo.extend({ config: z.record(z.string(), z.unknown()) }).openapi(
  "ConfigVersion",
);
const VersionParam = z.object({ version: z.string().openapi({ example: "3" }) });

/** Mounts the config and audit routes. */
export function mountConfigRoutes(app: GatewayApp, deps: AdminDeps): void {
  const registry = app.openAPIRegistry;
  const tags = ["Admin: config"];

  registry.registerPath({
    method: "get",
    path: "/admin/config",
    tags,
    summary: "The live model section, as written, with its version as ETag",
    responses: {
      200: { description: "The live version", content: jsonContent(Version) },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/config", (c) => {
    const { live } = deps;
    return c.json({ ...live.info, config: live.model }, 200, { etag: etagOf(live.version) });
  });

  registry.registerPath({
    method: "put",
    path: "/admin/config",
    tags,
    summary: "Replace the model section (validated as the YAML is)",
    request: {
      headers: IfMatchHeader,
      body: { content: jsonContent(z.record(z.string(), z.unknown())) },
    },
    responses: {
      200: { description: "The new version", content: jsonContent(VersionInfo) },
      ...WRITE_ERRORS,
    },
  });
  app.put("/admin/config", async (c) => {
    const model = await readJsonObject(c);
    const committed = await commitChange(c, deps, "replace", (current) => {
      checkNewUrls(current, model, deps.allowPrivate);
      return { model, target: "model", before: current, after: model };
    });
    return c.json(versionInfo(deps, committed.version), 200, { etag: committed.etag });
  });

  registry.registerPath({
    method: "get",
    path: "/admin/config/versions",
    tags,
    summary: "Every version, newest first",
    responses: {
      200: {
        description: "The versions",
        content: jsonContent(
          z.object({ current: z.number().int(), versions: z.array(VersionInfo) }),
        ),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/config/versions", async (c) =>
    c.json(
      { current: deps.live.version, versions: await deps.live.store.history() },
      200,
      { etag: etagOf(deps.live.version) },
    ));

  registry.registerPath({
    method: "get",
    path: "/admin/config/versions/{version}",
    tags,
    summary: "One version and the model section it holds",
    request: { params: VersionParam },
    responses: {
      200: { description: "The version", content: jsonContent(Version) },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/config/versions/:version", async (c) => {
    const stored = await storedVersion(deps, c.req.param("version"));
    const { config, ...info } = stored;
    return c.json({ ...info, config: config.model }, 200, {
      etag: etagOf(deps.live.version),
    });
  });

  registry.registerPath({
    method: "post",
    path: "/admin/config/versions/{version}/apply",
    tags,
    summary: "Roll back (or forward) to a version: its section becomes a new version",
    request: { params: VersionParam, headers: IfMatchHeader },
    responses: {
      200: { description: "The new version", content: jsonContent(VersionInfo) },
      ...WRITE_ERRORS,
    },
  });
  app.post("/admin/config/versions/:version/apply", async (c) => {
    const stored = await storedVersion(deps, c.req.param("version"));
    const committed = await commitChange(c, deps, "roll back", rollBackTo(stored));
    return c.json(versionInfo(deps, committed.version), 200, { etag: committed.etag });
  });

  registry.registerPath({
    method: "get",
    path: "/admin/config/diff",
    tags,
    summary: "What changed between two versions (to defaults to the live one)",
    request: {
      query: z.object({ from: z.string().openapi({ example: "1" }), to: z.string().optional() }),
    },
    responses: {
      200: {
        description: "The changes, instances matched by identity",
        content: jsonContent(z.object({
          from: z.number().int(),
          to: z.number().int(),
          changes: z.array(z.object({
            path: z.string(),
            op: z.enum(["added", "removed", "changed"]),
            before: z.unknown().optional(),
            after: z.unknown().optional(),
          })),
        })),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/config/diff", async (c) => {
    const from = await storedVersion(deps, c.req.query("from") ?? "", "from");
    const to = await storedVersion(deps, c.req.query("to") ?? String(deps.live.version), "to");
    const changes = diffConfigs(from.config.model, to.config.model);
    return c.json({ from: from.version, to: to.version, changes }, 200);
  });

  registry.registerPath({
    method: "get",
    path: "/admin/audit",
    tags,
    summary: "The latest admin writes, newest first",
    request: { query: z.object({ limit: z.string().optional().openapi({ example: "50" }) }) },
    responses: {
      200: {
        description: "Who did what and when, with the target before and after",
        content: jsonContent(z.object({
          entries: z.array(z.object({
            at: z.string(),
            by: z.string(),
            role: z.enum(ADMIN_ROLES).optional(),
            action: z.string(),
            reason: z.string().optional(),
            target: z.string(),
            version: z.number().int().optional(),
            before: z.unknown().optional(),
            after: z.unknown().optional(),
          })),
        })),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/audit", async (c) => {
    const limit = Number(c.req.query("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new GatewayError(400, "invalid_request", "limit is a whole number from 1 to 1000", {
        param: "limit",
      });
    }
    return c.json({ entries: await deps.audit.list(limit) }, 200);
  });
}

function versionInfo(deps: AdminDeps, version: number) {
  return { ...deps.live.info, version };
}

/** The edit that makes a stored version's section the live one. */
export function rollBackTo(
  stored: { readonly version: number; readonly config: { readonly model: JsonObject } },
): (current: JsonObject) => ConfigEdit {
  return (current) => ({
    model: stored.config.model,
    target: `to version ${stored.version}`,
    before: current,
    after: stored.config.model,
  });
}

/** The stored version `text` names; 400 when it is not a version number, 404 when unknown. */
export async function storedVersion(deps: AdminDeps, text: string, param = "version") {
  const version = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new GatewayError(
      400,
      "invalid_request",
      `${param} must be a version number, not "${text}"`,
      {
        param,
      },
    );
  }
  let stored;
  try {
    stored = await deps.live.store.get(version);
  } catch (error) {
    if (!(error instanceof UnsealError)) throw error;
    throw new GatewayError(
      409,
      "version_sealed",
      `Config version ${version} cannot be read: ${error.message}. Give that key in ` +
        "SWITCHYARD_PREVIOUS_SECRET_KEYS to read it",
      { param },
    );
  }
  if (!stored) {
    throw new GatewayError(404, "version_not_found", `There is no config version ${version}`, {
      param,
    });
  }
  return stored;
}

/** Refuses a replaced section that points a new instance at a forbidden address. */
function checkNewUrls(current: JsonObject, next: JsonObject, allowPrivate: boolean): void {
  const known = new Set(SERVICE_TYPES.flatMap((type) => urlsOf(current, type)));
  for (const type of SERVICE_TYPES) {
    urlsOf(next, type).forEach((url, index) => {
      if (url === undefined || known.has(url)) return;
      refuseForbiddenUrl(url, allowPrivate, `model.services.${type}.instances[${index}].base-url`);
    });
  }
}

/** The base URLs of a service's instances, index-aligned; undefined where one has none. */
function urlsOf(model: JsonObject, type: ServiceType): (string | undefined)[] {
  return instancesOf(model, type).map((instance) =>
    isJsonObject(instance) && typeof instance["base-url"] === "string"
      ? instance["base-url"]
      : undefined
  );
}
