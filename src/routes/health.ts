/**
 * Liveness and readiness.
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";

const HealthSchema = z.object({ status: z.string() }).openapi("Health");

/** Mounts `GET /health` (the process answers) and `GET /ready` (it takes new requests). */
export function mountHealthRoutes(app: GatewayApp, isDraining: () => boolean): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["Status"],
      summary: "Liveness",
      responses: {
        200: {
          description: "The gateway is up",
          content: { "application/json": { schema: HealthSchema } },
        },
      },
    }),
    (c) => c.json({ status: "ok" }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      tags: ["Status"],
      summary: "Readiness",
      responses: {
        200: {
          description: "Taking requests",
          content: { "application/json": { schema: HealthSchema } },
        },
        503: {
          description: "Shutting down",
          content: { "application/json": { schema: HealthSchema } },
        },
      },
    }),
    (c) => isDraining() ? c.json({ status: "draining" }, 503) : c.json({ status: "ready" }, 200),
  );
}
