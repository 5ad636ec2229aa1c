/**
 * `GET /admin/whoami`: the admin key (or token subject) a call is made with, and its role.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { GatewayApp } from "../gateway_env.ts";
import { ADMIN_ERRORS, jsonContent } from "./admin_api.ts";
import { ADMIN_ROLES } from "./roles.ts";

const WhoAmISchema = z.object({
  id: z.string().describe("the admin key's id, `jwt:<subject>` for a token, or `loopback`"),
  role: z.enum(ADMIN_ROLES).describe("what it may do"),
}).openapi("AdminWhoAmI", { example: { id: "ops", role: "operator" } });

/** Mounts `GET /admin/whoami`. */
export function mountWhoAmIRoute(app: GatewayApp): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/admin/whoami",
    tags: ["Admin"],
    summary: "The admin calling, and its role",
    responses: {
      200: { description: "Who is calling", content: jsonContent(WhoAmISchema) },
      ...ADMIN_ERRORS,
    },
  });
  app.get(
    "/admin/whoami",
    (c) => c.json({ id: c.get("admin") ?? "admin", role: c.get("adminRole") ?? "viewer" }),
  );
}
