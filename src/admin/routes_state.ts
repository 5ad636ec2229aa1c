/**
 * `/admin/breakers` and `/admin/limiters`: the live state behind the config — circuit breakers
 * to view and reset, rate limiters to view and reset. These act on this gateway's state (every
 * worker's, with several), not the config, so they need no `If-Match`; each reset is recorded in
 * the audit trail.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import { BreakerStatusSchema, LimitStatusSchema } from "../routes/schemas.ts";
import { limitStatus } from "../routes/status.ts";
import { ADMIN_ERRORS, type AdminDeps, callerOf, jsonContent } from "./admin_api.ts";
import { breakered, type LiveAction, liveLimits } from "./live_actions.ts";

const BreakerEntry = z.object({
  service: z.string(),
  instance: z.string(),
  breaker: BreakerStatusSchema,
}).openapi("AdminBreaker");
const Reset = z.object({ reset: z.number().int().openapi({ description: "How many were reset" }) });

/** What the breaker and limiter routes need besides the admin API's dependencies. */
export interface StateDeps extends AdminDeps {
  /** Takes an action on live state here, and in every other worker before it resolves. */
  readonly act: (action: LiveAction) => Promise<void>;
}

/** Mounts the breaker and limiter routes. */
export function mountStateRoutes(app: GatewayApp, deps: StateDeps): void {
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
      breakers: breakered(deps.registry.snapshot).map(({ type, upstream }) => ({
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
    const all = breakered(deps.registry.snapshot);
    await deps.act({ kind: "reset-breakers" });
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
    const found = breakered(deps.registry.snapshot).some(({ upstream }) => upstream.id === id);
    if (!found) {
      throw new GatewayError(404, "breaker_not_found", `No instance "${id}" has a circuit breaker`);
    }
    await deps.act({ kind: "reset-breakers", instance: id });
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
    return c.json({
      limits: liveLimits(deps.registry.snapshot).map((limit) => limitStatus(limit, at)),
    }, 200);
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
    const limits = liveLimits(deps.registry.snapshot).filter((limit) =>
      policy === undefined || limit.policy.id === policy
    );
    if (policy !== undefined && limits.length === 0) {
      throw new GatewayError(404, "limit_not_found", `No rate limit "${policy}"`, {
        param: "policy",
      });
    }
    await deps.act({ kind: "reset-limiters", ...(policy === undefined ? {} : { policy }) });
    await deps.audit.record(
      deps.audit.entry({ ...callerOf(c), action: "reset limiters", target: policy ?? "all" }),
    );
    return c.json({ reset: limits.length }, 200);
  });
}
