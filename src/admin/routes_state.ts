/**
 * `/admin/breakers` and `/admin/limiters`: the live state behind the config — circuit breakers
 * to view and reset, rate limiters to view and reset. These act on this gateway's state, not
 * the config, so they need no `If-Match`; each reset is recorded in the audit trail.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { LiveLimit } from "../limiter/admission.ts";
import type { Upstream } from "../registry/snapshot.ts";
import { BreakerStatusSchema, LimitStatusSchema } from "../routes/schemas.ts";
import { limitStatus } from "../routes/status.ts";
import { SERVICE_TYPES, type ServiceType } from "../services.ts";
import { ADMIN_ERRORS, type AdminDeps, callerOf, jsonContent } from "./admin_api.ts";

const BreakerEntry = z.object({
  service: z.string(),
  instance: z.string(),
  breaker: BreakerStatusSchema,
}).openapi("AdminBreaker");
const Reset = z.object({ reset: z.number().int().openapi({ description: "How many were reset" }) });

/** Mounts the breaker and limiter routes. */
export function mountStateRoutes(app: GatewayApp, deps: AdminDeps): void {
  const registry = app.openAPIRegistry;
  const tags = ["Admin: live state"];
  const now = deps.now ?? Date.now;

  registry.registerPath({
    method: "get",
    path: "/admin/breakers",
    tags,
    summary: "Every instance's circuit breaker",
    responses: {
      200: {
        description: "By instance",
        content: jsonContent(z.object({ breakers: z.array(BreakerEntry) })),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/breakers", (c) => {
    const at = now();
    return c.json({
      breakers: breakered(deps).map(({ type, upstream }) => ({
        service: type,
        instance: upstream.id,
        breaker: upstream.breaker!.snapshot(at),
      })),
    }, 200);
  });

  registry.registerPath({
    method: "post",
    path: "/admin/breakers/reset",
    tags,
    summary: "Close every breaker",
    responses: { 200: { description: "Reset", content: jsonContent(Reset) }, ...ADMIN_ERRORS },
  });
  // A path parameter rather than a static `reset` beside `/:id/reset`, so that Hono can match
  // every route with one regular expression.
  app.post("/admin/breakers/:all", async (c) => {
    if (c.req.param("all") !== "reset") {
      throw new GatewayError(404, "not_found", `No route for POST ${c.req.path}`);
    }
    const all = breakered(deps);
    for (const { upstream } of all) upstream.breaker!.reset(now());
    await deps.audit.record(
      deps.audit.entry({ ...callerOf(c), action: "reset breakers", target: "all" }),
    );
    return c.json({ reset: all.length }, 200);
  });

  registry.registerPath({
    method: "post",
    path: "/admin/breakers/{id}/reset",
    tags,
    summary: "Close one instance's breaker",
    request: {
      params: z.object({ id: z.string().openapi({ description: "Instance id, URL-encoded" }) }),
    },
    responses: { 200: { description: "Reset", content: jsonContent(Reset) }, ...ADMIN_ERRORS },
  });
  app.post("/admin/breakers/:id/reset", async (c) => {
    const id = c.req.param("id");
    const found = breakered(deps).filter(({ upstream }) => upstream.id === id);
    if (found.length === 0) {
      throw new GatewayError(404, "breaker_not_found", `No instance "${id}" has a circuit breaker`);
    }
    for (const { upstream } of found) upstream.breaker!.reset(now());
    await deps.audit.record(
      deps.audit.entry({ ...callerOf(c), action: "reset breaker", target: id }),
    );
    return c.json({ reset: 1 }, 200);
  });

  registry.registerPath({
    method: "get",
    path: "/admin/limiters",
    tags,
    summary: "Every rate limit and how many clients it tracks",
    responses: {
      200: {
        description: "By limit",
        content: jsonContent(z.object({ limits: z.array(LimitStatusSchema) })),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/limiters", (c) => {
    const at = now();
    return c.json({ limits: liveLimits(deps).map((limit) => limitStatus(limit, at)) }, 200);
  });

  registry.registerPath({
    method: "post",
    path: "/admin/limiters/reset",
    tags,
    summary: "Refill every limiter, or those of one limit (?policy=services.chat)",
    request: { query: z.object({ policy: z.string().optional() }) },
    responses: { 200: { description: "Reset", content: jsonContent(Reset) }, ...ADMIN_ERRORS },
  });
  app.post("/admin/limiters/reset", async (c) => {
    const policy = c.req.query("policy");
    const limits = liveLimits(deps).filter((limit) =>
      policy === undefined || limit.policy.id === policy
    );
    if (policy !== undefined && limits.length === 0) {
      throw new GatewayError(404, "limit_not_found", `No rate limit "${policy}"`, {
        param: "policy",
      });
    }
    for (const limit of limits) limit.limiters.clear();
    await deps.audit.record(
      deps.audit.entry({ ...callerOf(c), action: "reset limiters", target: policy ?? "all" }),
    );
    return c.json({ reset: limits.length }, 200);
  });
}

function breakered(deps: AdminDeps): { type: ServiceType; upstream: Upstream }[] {
  const seen = new Set<string>();
  const found: { type: ServiceType; upstream: Upstream }[] = [];
  for (const type of SERVICE_TYPES) {
    for (const upstream of deps.registry.snapshot.services[type].upstreams) {
      if (!upstream.breaker || seen.has(upstream.id)) continue;
      seen.add(upstream.id);
      found.push({ type, upstream });
    }
  }
  return found;
}

/** Every live limit once, by policy. */
function liveLimits(deps: AdminDeps): LiveLimit[] {
  const byPolicy = new Map<string, LiveLimit>();
  for (const type of SERVICE_TYPES) {
    const service = deps.registry.snapshot.services[type];
    for (const limit of service.limits) byPolicy.set(limit.policy.id, limit);
    for (const upstream of service.upstreams) {
      for (const limit of upstream.limits) byPolicy.set(limit.policy.id, limit);
    }
  }
  return [...byPolicy.values()];
}
