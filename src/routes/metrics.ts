/**
 * `GET /metrics`: the gateway's metrics for Prometheus to scrape.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.ts";

/** Mounts `GET /metrics`, whose text `render` makes: this gateway's, or every worker's. */
export function mountMetricsRoute(
  app: GatewayApp,
  render: () => string | Promise<string>,
): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/metrics",
    tags: ["Status"],
    summary: "Prometheus metrics",
    responses: {
      200: {
        description: "Every switchyard_ metric in the Prometheus text format 0.0.4",
        content: { [PROMETHEUS_CONTENT_TYPE]: { schema: z.string() } },
      },
    },
  });
  app.get("/metrics", async (c) =>
    c.body(await render(), 200, {
      "content-type": PROMETHEUS_CONTENT_TYPE,
      "cache-control": "no-store",
    }));
}
