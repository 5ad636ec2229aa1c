/**
 * `/admin/services`: each service's settings (strategy, adapter, limits, breaker, fallback…)
 * and its instances — list, add, update (weight, path, headers, limits, breaker, status),
 * remove. Every write is validated with the config schema and needs `If-Match`.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deepEqual, type JsonObject } from "../lib/json.ts";
import { InstanceSchema } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp, GatewayEnv } from "../gateway_env.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import {
  ADMIN_ERRORS,
  type AdminDeps,
  commitChange,
  IfMatchHeader,
  jsonContent,
  parsedOr400,
  readJsonObject,
  WRITE_ERRORS,
} from "./admin_api.ts";
import {
  addInstance,
  findInstance,
  listInstances,
  patchService,
  removeInstance,
  serviceSettings,
  updateInstance,
} from "./instance_edits.ts";
import { mergePatch } from "./merge_patch.ts";
import { etagOf } from "./preconditions.ts";
import { instanceUrlProblem } from "./url_policy.ts";

const Section = z.record(z.string(), z.unknown());
const Instance = z.object({
  id: z.string().openapi({ description: "As the status endpoints show it" }),
  instanceId: z.string().openapi({ description: "JAiRouter's id: name@base-url" }),
  config: Section.openapi({ description: "The instance as written in the config" }),
}).openapi("AdminInstance");
const TypeParam = z.object({ type: z.enum(SERVICE_TYPES) });
const InstanceParams = TypeParam.extend({
  id: z.string().openapi({ description: "The instance id, URL-encoded" }),
});

/** Mounts the service and instance routes. */
export function mountServiceRoutes(app: GatewayApp, deps: AdminDeps): void {
  const registry = app.openAPIRegistry;
  const tags = ["Admin: services"];
  const etag = () => ({ etag: etagOf(deps.live.version) });

  registry.registerPath({
    method: "get",
    path: "/admin/services",
    tags,
    summary: "Every service's settings, as written, without instances",
    responses: {
      200: { description: "By service", content: jsonContent(Section) },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/services", (c) =>
    c.json(
      Object.fromEntries(
        SERVICE_TYPES.map((type) => [type, serviceSettings(deps.live.model, type)]),
      ),
      200,
      etag(),
    ));

  registry.registerPath({
    method: "get",
    path: "/admin/services/{type}",
    tags,
    summary: "One service's settings, as written, without instances",
    request: { params: TypeParam },
    responses: {
      200: { description: "Its settings", content: jsonContent(Section) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(
    "/admin/services/:type",
    (c) => c.json(serviceSettings(deps.live.model, serviceType(c)), 200, etag()),
  );

  registry.registerPath({
    method: "patch",
    path: "/admin/services/{type}",
    tags,
    summary: "Change a service's settings (JSON Merge Patch: null removes a key)",
    request: { params: TypeParam, headers: IfMatchHeader, body: { content: jsonContent(Section) } },
    responses: {
      200: { description: "Its new settings", content: jsonContent(Section) },
      ...WRITE_ERRORS,
    },
  });
  app.patch("/admin/services/:type", async (c) => {
    const type = serviceType(c);
    const patch = await readJsonObject(c);
    const committed = await commitChange(
      c,
      deps,
      "change service",
      (model) => patchService(model, type, patch),
    );
    return c.json(committed.edit.after, 200, { etag: committed.etag });
  });

  registry.registerPath({
    method: "get",
    path: "/admin/services/{type}/instances",
    tags,
    summary: "A service's instances",
    request: { params: TypeParam },
    responses: {
      200: {
        description: "In config order",
        content: jsonContent(z.object({ instances: z.array(Instance) })),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get(
    "/admin/services/:type/instances",
    (c) => c.json({ instances: listInstances(deps.live.model, serviceType(c)) }, 200, etag()),
  );

  registry.registerPath({
    method: "post",
    path: "/admin/services/{type}/instances",
    tags,
    summary: "Add an instance; it takes traffic as soon as this answers",
    request: { params: TypeParam, headers: IfMatchHeader, body: { content: jsonContent(Section) } },
    responses: { 201: { description: "Added", content: jsonContent(Instance) }, ...WRITE_ERRORS },
  });
  app.post("/admin/services/:type/instances", async (c) => {
    const type = serviceType(c);
    const instance = checkedInstance(await readJsonObject(c), deps.allowPrivate);
    const committed = await commitChange(
      c,
      deps,
      "add instance",
      (model) => addInstance(model, type, instance),
    );
    return c.json(changedEntry(deps, type, instance), 201, { etag: committed.etag });
  });

  registry.registerPath({
    method: "get",
    path: "/admin/services/{type}/instances/{id}",
    tags,
    summary: "One instance",
    request: { params: InstanceParams },
    responses: {
      200: { description: "The instance", content: jsonContent(Instance) },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/services/:type/instances/:id", (c) => {
    const { index: _, ...entry } = findInstance(deps.live.model, serviceType(c), c.req.param("id"));
    return c.json(entry, 200, etag());
  });

  registry.registerPath({
    method: "patch",
    path: "/admin/services/{type}/instances/{id}",
    tags,
    summary: "Change an instance (JSON Merge Patch), e.g. weight or status: draining",
    request: {
      params: InstanceParams,
      headers: IfMatchHeader,
      body: { content: jsonContent(Section) },
    },
    responses: {
      200: { description: "The changed instance", content: jsonContent(Instance) },
      ...WRITE_ERRORS,
    },
  });
  app.patch("/admin/services/:type/instances/:id", async (c) => {
    const type = serviceType(c);
    const patch = await readJsonObject(c);
    const committed = await commitChange(
      c,
      deps,
      "update instance",
      (model) =>
        updateInstance(model, type, c.req.param("id"), (instance) => {
          const changed = mergePatch(instance, patch) as JsonObject;
          const urlChanged = changed["base-url"] !== instance["base-url"];
          return checkedInstance(changed, deps.allowPrivate, urlChanged);
        }),
    );
    return c.json(changedEntry(deps, type, committed.edit.after), 200, {
      etag: committed.etag,
    });
  });

  registry.registerPath({
    method: "delete",
    path: "/admin/services/{type}/instances/{id}",
    tags,
    summary: "Remove an instance; requests in flight on it finish",
    request: { params: InstanceParams, headers: IfMatchHeader },
    responses: { 204: { description: "Removed" }, ...WRITE_ERRORS },
  });
  app.delete("/admin/services/:type/instances/:id", async (c) => {
    const type = serviceType(c);
    const committed = await commitChange(
      c,
      deps,
      "remove instance",
      (model) => removeInstance(model, type, c.req.param("id")),
    );
    return c.body(null, 204, { etag: committed.etag });
  });
}

/** The service named in the path; 404 for one that does not exist. */
export function serviceType(c: Context<GatewayEnv>): ServiceType {
  const type = c.req.param("type") ?? "";
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) {
    throw new GatewayError(
      404,
      "service_not_found",
      `No service "${type}"; the services are ${SERVICE_TYPES.join(", ")}`,
    );
  }
  return type as ServiceType;
}

/**
 * An instance section checked on its own, so errors name its fields as the client wrote them,
 * and its URL checked against the admin URL policy.
 */
export function checkedInstance(
  instance: JsonObject,
  allowPrivate: boolean,
  checkUrl = true,
): JsonObject {
  const parsed = parsedOr400(InstanceSchema, instance, "The instance");
  if (checkUrl) refuseForbiddenUrl(parsed["base-url"], allowPrivate, "base-url");
  return instance;
}

/** Throws a 400 `forbidden_url` when the admin URL policy refuses `url`. */
export function refuseForbiddenUrl(url: string, allowPrivate: boolean, param: string): void {
  const problem = instanceUrlProblem(url, { allowPrivate });
  if (problem) throw new GatewayError(400, "forbidden_url", problem, { param });
}

function changedEntry(deps: AdminDeps, type: ServiceType, after: unknown) {
  return listInstances(deps.live.model, type).find((entry) => deepEqual(entry.config, after)) ??
    null;
}
