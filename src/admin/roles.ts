/**
 * What each admin role may do. A `viewer` reads; an `operator` also runs the instances (adds,
 * changes, drains and removes them), resets breakers, limiters and statistics, and refreshes
 * health, load and model lists; an `admin`
 * does everything, the service settings, the whole config, rollbacks and API keys included.
 *
 * The role a call needs is read from its method and path here, in one table, rather than at
 * each route: a write nobody listed needs `admin`.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { errorResponse, GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../gateway_env.ts";

/** The admin roles, from least to most allowed. */
export const ADMIN_ROLES = ["viewer", "operator", "admin"] as const;

/** An admin role. */
export type AdminRole = typeof ADMIN_ROLES[number];

/** Writes an operator may make: instances, and resetting live state. */
const OPERATOR_WRITES: readonly RegExp[] = [
  /^\/admin\/services\/[^/]+\/instances(?:\/[^/]+)?$/,
  /^\/admin\/breakers\/[^/]+(?:\/reset)?$/,
  /^\/admin\/limiters\/reset$/,
  /^\/api\/config\/instance\/(?:add|update|del)\/[^/]+$/,
  /^(?:\/api)?\/v1\/stats\/(?:refresh|reset)$/,
  /^(?:\/api)?\/v1\/models\/clear-cache$/,
];

/** The role a call of `method` on `path` needs. */
export function requiredRole(method: string, path: string): AdminRole {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return "viewer";
  return OPERATOR_WRITES.some((pattern) => pattern.test(path)) ? "operator" : "admin";
}

/** Whether `role` may do what `needed` may. */
export function allows(role: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(needed);
}

/**
 * Refuses with 403 a call the admin's role (set by the admin guard before it) does not allow,
 * naming the role it needs.
 */
export function roleGuard(
  render: (error: GatewayError) => Response = errorResponse,
): MiddlewareHandler<GatewayEnv> {
  return async function roleGuard(c, next) {
    const role = c.get("adminRole") ?? "viewer";
    const needed = requiredRole(c.req.method, c.req.path);
    if (!allows(role, needed)) {
      return render(
        new GatewayError(
          403,
          "insufficient_role",
          `${c.req.method} ${c.req.path} needs the ${needed} role; admin key ` +
            `"${c.get("admin")}" has the ${role} role`,
        ),
      );
    }
    await next();
  };
}
