/**
 * `/admin/keys`: client API keys. A created key is shown once, in the answer that creates it;
 * only its digest is stored. Keys written in the config file are listed but changed there.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { digestOf, newKey } from "../auth/secret.ts";
import type { JsonObject } from "../lib/json.ts";
import { ApiKeySchema, JAIROUTER_KEY_NAMES, teamProblems } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { ApiKeyStore, StoredApiKey } from "../store/mod.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import {
  ADMIN_ERRORS,
  type AdminDeps,
  adminOf,
  callerOf,
  invalidConfig,
  jsonContent,
  parsedOr400,
  readJsonObject,
  storing,
  WRITE_ERRORS,
} from "./admin_api.ts";
import { mergePatch } from "./merge_patch.ts";
import { PRIORITY_CLASSES } from "../queue/priority.ts";
import { RecordRefusals } from "./record_refusals.ts";

const KEY_REFUSALS = new RecordRefusals("key", "key", "API key");

const KeySettings = ApiKeySchema.omit({ key: true });
const KeyInfo = z.object({
  id: z.string(),
  source: z.enum(["config", "admin"]),
  models: z.array(z.string()).optional(),
  "rate-limit": z.record(z.string(), z.unknown()).optional(),
  team: z.string().optional(),
  budget: z.record(z.string(), z.number()).optional(),
  "max-concurrency": z.number().optional(),
  priority: z.enum(PRIORITY_CLASSES).optional(),
  "priority-header": z.boolean().optional(),
  expires: z.string().optional(),
  "allowed-ips": z.array(z.string()).optional(),
  enabled: z.boolean(),
  created: z.string().optional(),
  by: z.string().optional(),
}).openapi("ApiKeyInfo");
const IdParam = z.object({ id: z.string() });

/** Mounts the API key routes. */
export function mountKeyRoutes(app: GatewayApp, deps: AdminDeps): void {
  const registry = app.openAPIRegistry;
  const tags = ["Admin: API keys"];
  const now = deps.now ?? Date.now;
  const reload = deps.reloadClients;

  registry.registerPath({
    method: "get",
    path: "/admin/keys",
    tags,
    summary: "Every client API key, without the keys themselves",
    responses: {
      200: { description: "The keys", content: jsonContent(z.object({ keys: z.array(KeyInfo) })) },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/keys", async (c) => {
    return c.json({ keys: await listedKeys(deps.authenticator, deps.keys) }, 200);
  });

  registry.registerPath({
    method: "post",
    path: "/admin/keys",
    tags,
    summary: "Create a key; the answer is the only time the key is shown",
    request: { body: { content: jsonContent(z.record(z.string(), z.unknown())) } },
    responses: {
      201: { description: "Created", content: jsonContent(KeyInfo.extend({ key: z.string() })) },
      ...WRITE_ERRORS,
    },
  });
  app.post("/admin/keys", async (c) => {
    const settings = validSettings(await readJsonObject(c), deps);
    const id = settings.id;
    if (deps.authenticator.configuredIds.has(id)) throw KEY_REFUSALS.taken(id);
    const key = newKey();
    const stored = storedKey(settings, {
      digest: digestOf(key),
      created: new Date(now()).toISOString(),
      by: adminOf(c),
    });
    const entry = deps.audit.entry({
      ...callerOf(c),
      action: "create key",
      target: id,
      after: info(stored),
    });
    if (!await storing(() => deps.keys.create(stored, entry))) {
      throw KEY_REFUSALS.taken(id);
    }
    await reload();
    return c.json({ ...info(stored), key }, 201);
  });

  registry.registerPath({
    method: "patch",
    path: "/admin/keys/{id}",
    tags,
    summary: "Change a key's models, limit, expiry or enabled flag (JSON Merge Patch)",
    request: { params: IdParam, body: { content: jsonContent(z.record(z.string(), z.unknown())) } },
    responses: { 200: { description: "Changed", content: jsonContent(KeyInfo) }, ...WRITE_ERRORS },
  });
  app.patch("/admin/keys/:id", async (c) => {
    const id = c.req.param("id");
    if (deps.authenticator.configuredIds.has(id)) throw KEY_REFUSALS.inConfig(id);
    const patch = await readJsonObject(c);
    if ("id" in patch || "key" in patch || "digest" in patch) {
      throw new GatewayError(
        400,
        "invalid_request",
        "A key's id and value cannot be changed; create a new key",
      );
    }
    const updated = await storing(() =>
      deps.keys.update(
        id,
        (key) => {
          const { digest, created, by, ...settings } = key;
          const changed = validSettings(mergePatch(settings, patch) as JsonObject, deps);
          return storedKey(changed, { digest, created, by });
        },
        (before, after) =>
          deps.audit.entry({
            ...callerOf(c),
            action: "update key",
            target: id,
            before: info(before),
            after: info(after),
          }),
      )
    );
    if (!updated) throw KEY_REFUSALS.missing(id);
    await reload();
    return c.json(info(updated), 200);
  });

  registry.registerPath({
    method: "delete",
    path: "/admin/keys/{id}",
    tags,
    summary: "Revoke a key",
    request: { params: IdParam },
    responses: { 204: { description: "Revoked" }, ...WRITE_ERRORS },
  });
  app.delete("/admin/keys/:id", async (c) => {
    const id = c.req.param("id");
    if (deps.authenticator.configuredIds.has(id)) throw KEY_REFUSALS.inConfig(id);
    const deleted = await deps.keys.delete(id, (before) =>
      deps.audit.entry({
        ...callerOf(c),
        action: "revoke key",
        target: id,
        before: info(before),
      }));
    if (!deleted) throw KEY_REFUSALS.missing(id);
    await reload();
    return c.body(null, 204);
  });
}

/** Every client key, those of the config then those stored, with its source; never the key. */
export async function listedKeys(authenticator: Authenticator, keys: ApiKeyStore) {
  const configured = authenticator.configuredKeys.map(({ key: _, ...settings }) => ({
    ...settings,
    source: "config" as const,
  }));
  return [...configured, ...(await keys.list()).map(info)];
}

function info(key: StoredApiKey) {
  const { digest: _, ...rest } = key;
  return { ...rest, source: "admin" as const };
}

/** A key's settings as written, once they validate. */
type KeySettingsInput = z.input<typeof KeySettings>;

function validSettings(body: JsonObject, deps: AdminDeps): KeySettingsInput {
  const settings = parsedOr400(KeySettings, body, "The key");
  const jaiRouter = Object.entries(JAIROUTER_KEY_NAMES).filter(([name]) => name in body);
  if (jaiRouter.length > 0) {
    throw invalidConfig(
      jaiRouter.map(([name, ours]) => ({
        path: name,
        message: `The admin API takes ${ours}; ${name} is read in the config file only`,
      })),
      "The key",
    );
  }
  const team = settings.team === undefined ? undefined : deps.authenticator.team(settings.team);
  const problems = teamProblems(settings, team);
  if (problems.length > 0) {
    throw invalidConfig(problems.map(({ key, message }) => ({ path: key, message })), "The key");
  }
  return body as KeySettingsInput;
}

/** A key to store: its settings as written, and its digest instead of the key. */
function storedKey(
  settings: KeySettingsInput,
  meta: { readonly digest: string; readonly created: string; readonly by: string },
): StoredApiKey {
  return {
    id: settings.id,
    ...meta,
    enabled: settings.enabled ?? true,
    ...(settings.models ? { models: settings.models } : {}),
    ...(settings["rate-limit"] ? { "rate-limit": settings["rate-limit"] } : {}),
    ...(settings.team ? { team: settings.team } : {}),
    ...(settings.budget ? { budget: settings.budget } : {}),
    ...(settings["max-concurrency"] ? { "max-concurrency": settings["max-concurrency"] } : {}),
    ...(settings.priority ? { priority: settings.priority } : {}),
    ...(settings["priority-header"] ? { "priority-header": true } : {}),
    ...(settings.expires ? { expires: settings.expires } : {}),
    ...(settings["allowed-ips"] ? { "allowed-ips": settings["allowed-ips"] } : {}),
  };
}
