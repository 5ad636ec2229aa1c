/**
 * JAiRouter's instance endpoints under `/api/config/instance` and its version endpoints under
 * `/api/config/version`, with its response wrapper `{success, message, data, errorCode,
 * timestamp}` and its camelCase instance fields, so scripts written for it keep working. They
 * send no `If-Match`: a write applies to whatever version is live, and is still stored
 * atomically, versioned and audited.
 * @module
 */
import type { Context } from "hono";
import { isJsonObject, type JsonObject } from "../lib/json.ts";
import type { ConfigEdit } from "../config/live_config.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp, GatewayEnv } from "../gateway_env.ts";
import {
  type AdminDeps,
  busy,
  callerOf,
  invalidConfig,
  readJsonObject,
  storing,
} from "./admin_api.ts";
import { adminGuard } from "./admin_guard.ts";
import { redactedAnswers } from "./redacted_answers.ts";
import { roleGuard } from "./roles.ts";
import {
  addInstance,
  findInstance,
  listInstances,
  removeInstance,
  updateInstance,
} from "./instance_edits.ts";
import { rollBackTo, storedVersion } from "./routes_config.ts";
import { checkedInstance, serviceType } from "./routes_services.ts";

const BASE = "/api/config/instance";
const VERSIONS = "/api/config/version";

/** JAiRouter's field names, where they differ from the config's. */
const FROM_CAMEL: Readonly<Record<string, string>> = {
  baseUrl: "base-url",
  rateLimit: "rate-limit",
  circuitBreaker: "circuit-breaker",
  clientIpEnable: "client-ip-enable",
  maxConcurrency: "max-concurrency",
  forwardAuthorization: "forward-authorization",
  apiKey: "api-key",
  warmUpPeriod: "warm-up-period",
  coldFactor: "cold-factor",
  halfOpenMaxProbes: "half-open-max-probes",
};
const TO_CAMEL = Object.fromEntries(
  Object.entries(FROM_CAMEL).map(([camel, kebab]) => [kebab, camel]),
);

/** Mounts JAiRouter's instance and version endpoints, behind the admin guard. */
export function mountJaiRouterRoutes(app: GatewayApp, deps: AdminDeps): void {
  const guard = adminGuard(deps.access, wrappedError);
  const roles = roleGuard(wrappedError);
  const redacted = redactedAnswers();
  for (const path of [`${BASE}/*`, VERSIONS, `${VERSIONS}/*`]) {
    app.use(path, guard);
    app.use(path, roles);
    app.use(path, redacted);
  }
  const tags = ["JAiRouter compatibility"];
  const registry = app.openAPIRegistry;
  const describe = (method: "get" | "post" | "put" | "delete", path: string, summary: string) =>
    registry.registerPath({
      method,
      path,
      tags,
      summary,
      responses: { 200: { description: "{success, message, data, errorCode, timestamp}" } },
    });

  describe("get", `${BASE}/type/{type}`, "A service's instances");
  app.get(`${BASE}/type/:type`, (c) =>
    handle(() => {
      const type = serviceType(c);
      return ok(listInstances(deps.live.model, type).map(toJaiRouter), "Instances read");
    }));

  describe(
    "get",
    `${BASE}/info/{type}`,
    "One instance (?instanceId=its instance-id, or name@baseUrl)",
  );
  app.get(`${BASE}/info/:type`, (c) =>
    handle(() => {
      const found = findInstance(deps.live.model, serviceType(c), instanceIdOf(c));
      return ok(toJaiRouter(found), "Instance read");
    }));

  describe("post", `${BASE}/add/{type}`, "Add an instance");
  app.post(`${BASE}/add/:type`, (c) =>
    handle(async () => {
      const type = serviceType(c);
      const sent = await readJsonObject(c);
      const instance = checkedInstance(withSentId(fromJaiRouter(sent), sent), deps.allowPrivate);
      await change(c, deps, "add instance", (model) => addInstance(model, type, instance));
      return ok(null, "Instance added", 201);
    }));

  describe("put", `${BASE}/update/{type}`, "Update an instance: {instanceId, instance}");
  app.put(`${BASE}/update/:type`, (c) =>
    handle(async () => {
      const type = serviceType(c);
      const request = await readJsonObject(c);
      const instanceId = request.instanceId;
      if (typeof instanceId !== "string" || !isJsonObject(request.instance)) {
        throw new GatewayError(400, "invalid_request", "Send {instanceId, instance}");
      }
      const fields = fromJaiRouter(request.instance);
      // As in JAiRouter, each field sent replaces the field whole; a null one is removed.
      const removed = Object.keys(fromJaiRouter(request.instance, { keepNulls: true }))
        .filter((key) => !(key in fields));
      await change(c, deps, "update instance", (model) =>
        updateInstance(model, type, instanceId, (instance) => {
          const changed: JsonObject = { ...instance, ...fields };
          for (const key of removed) {
            delete changed[key];
          }
          return checkedInstance(
            changed,
            deps.allowPrivate,
            changed["base-url"] !== instance["base-url"],
          );
        }));
      return ok(null, "Instance updated");
    }));

  describe(
    "delete",
    `${BASE}/del/{type}`,
    "Remove an instance (?instanceId=its instance-id, or name@baseUrl)",
  );
  app.delete(`${BASE}/del/:type`, (c) =>
    handle(async () => {
      const type = serviceType(c);
      const instanceId = instanceIdOf(c);
      await change(c, deps, "remove instance", (model) => removeInstance(model, type, instanceId));
      return ok(null, "Instance removed");
    }));

  describe("get", VERSIONS, "Every config version number, oldest first");
  app.get(VERSIONS, () =>
    handle(async () => {
      const versions = (await deps.live.store.history()).map((info) => info.version);
      return ok(versions.toSorted((a, b) => a - b), "Config versions read");
    }));

  describe("get", `${VERSIONS}/current`, "The live config version number");

  describe("get", `${VERSIONS}/{version}`, "The model section a version holds");
  // One route for both: beside a static `current`, the path parameter would keep Hono from
  // matching every route with one regular expression.
  app.get(`${VERSIONS}/:version`, (c) =>
    handle(async () => {
      const version = c.req.param("version");
      if (version === "current") return ok(deps.live.version, "Current version read");
      const stored = await storedVersion(deps, version);
      return ok(stored.config.model, "Config version read");
    }));

  describe(
    "post",
    `${VERSIONS}/apply/{version}`,
    "Apply a version: its model section becomes the live one, as a new version",
  );
  app.post(`${VERSIONS}/apply/:version`, (c) =>
    handle(async () => {
      const stored = await storedVersion(deps, c.req.param("version"));
      const version = await change(c, deps, "roll back", rollBackTo(stored));
      return ok(version, `Version ${stored.version} applied as version ${version}`);
    }));
}

async function change(
  c: Context<GatewayEnv>,
  deps: AdminDeps,
  action: string,
  edit: (model: JsonObject) => ConfigEdit,
): Promise<number> {
  const result = await storing(() => deps.live.change("any", { ...callerOf(c), action }, edit));
  if (result.kind === "invalid") throw invalidConfig(result.problems);
  if (result.kind === "busy") throw busy();
  return result.kind === "changed" ? result.version : deps.live.version;
}

async function handle(
  run: () => Response | Promise<Response>,
): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof GatewayError) return wrappedError(error);
    throw error;
  }
}

function ok(
  data: unknown,
  message: string,
  status: 200 | 201 = 200,
): Response {
  return Response.json(
    { success: true, message, data, errorCode: null, timestamp: new Date().toISOString() },
    { status },
  );
}

function wrappedError(error: GatewayError): Response {
  return Response.json(
    {
      success: false,
      message: error.message,
      data: null,
      errorCode: error.code,
      timestamp: new Date().toISOString(),
    },
    { status: error.status, headers: error.headers },
  );
}

function instanceIdOf(c: Context<GatewayEnv>): string {
  const id = c.req.query("instanceId");
  if (!id) {
    throw new GatewayError(400, "invalid_request", "instanceId is required", {
      param: "instanceId",
    });
  }
  return id;
}

/** A JAiRouter instance as the config writes it: kebab-case keys, nulls and its id dropped. */
function fromJaiRouter(
  instance: JsonObject,
  options: { readonly keepNulls?: boolean } = {},
): JsonObject {
  return renamed(instance, FROM_CAMEL, (key, value) => {
    if ((value === null && !options.keepNulls) || key === "instanceId") return undefined;
    if (key === "status" && value === "inactive") return "disabled";
    return value;
  });
}

/**
 * `instance` with the `instanceId` a client sent for it kept as its `instance-id`, unless that is
 * the `name@baseUrl` JAiRouter would derive anyway.
 */
function withSentId(instance: JsonObject, sent: JsonObject): JsonObject {
  const id = sent.instanceId;
  if (id === undefined || id === null) return instance;
  if (typeof id !== "string" || id.trim() === "") {
    throw new GatewayError(400, "invalid_request", "instanceId must be a non-empty string", {
      param: "instanceId",
    });
  }
  return id === `${String(sent.name ?? "")}@${String(sent.baseUrl ?? "")}`
    ? instance
    : { ...instance, "instance-id": id };
}

/** An instance as JAiRouter shows it; a written `instance-id` is its `instanceId`. */
function toJaiRouter(
  entry: { readonly instanceId: string; readonly config: JsonObject },
): JsonObject {
  const { "instance-id": _, ...config } = entry.config;
  return {
    instanceId: entry.instanceId,
    ...renamed(
      config,
      TO_CAMEL,
      (key, value) => key === "status" && value === "disabled" ? "inactive" : value,
    ),
  };
}

function renamed(
  object: JsonObject,
  names: Readonly<Record<string, string>>,
  map: (key: string, value: unknown) => unknown,
): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    const mapped = map(key, value);
    if (mapped === undefined) continue;
    const name = names[key] ?? key;
    // Header names are the backend's, not field names.
    result[name] = isJsonObject(mapped) && key !== "headers" ? renamed(mapped, names, map) : mapped;
  }
  return result;
}
