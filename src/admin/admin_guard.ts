/**
 * Who may use the admin API: a client presenting an admin key, or — while no key is configured
 * — only a client on loopback. Keys are compared by digest in constant time.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { digestOf, presentedCredential, sameDigest, writtenDigest } from "../auth/secret.ts";
import type { AdminConfig } from "../config/schema.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import { CidrSet } from "../net/cidr.ts";
import type { AdminRole } from "./roles.ts";

/** The admin keys in force; none means loopback only. */
export interface AdminAccess {
  readonly keys: readonly {
    readonly id: string;
    readonly digest: string;
    readonly role: AdminRole;
  }[];
}

/** The admin keys of the config and `SWITCHYARD_ADMIN_KEY`, with ids that reveal nothing. */
export function adminAccess(config: AdminConfig, envKey: string | undefined): AdminAccess {
  const keys = config.keys.map((key, index) =>
    typeof key === "string"
      ? { id: `admin-${index + 1}`, digest: writtenDigest(key), role: "admin" as const }
      : { id: key.id, digest: writtenDigest(key.key), role: key.role }
  );
  if (envKey) keys.push({ id: "env", digest: writtenDigest(envKey), role: "admin" });
  return { keys };
}

const LOOPBACK = new CidrSet(["127.0.0.0/8", "::1/128"]);

/** Lets admin requests through, naming the admin in `c.var.admin`; refuses the rest. */
export function adminGuard(
  access: AdminAccess,
  render: (error: GatewayError) => Response = errorResponse,
): MiddlewareHandler<GatewayEnv> {
  return async function adminGuard(c, next) {
    if (access.keys.length === 0) {
      const peer = c.env?.remoteAddr?.hostname;
      if (peer === undefined || !LOOPBACK.has(peer)) {
        return render(
          new GatewayError(
            403,
            "permission_denied",
            "The admin API answers only on loopback until an admin key is configured " +
              "(admin.keys or SWITCHYARD_ADMIN_KEY)",
          ),
        );
      }
      c.set("admin", "loopback");
      c.set("adminRole", "admin");
      return await next();
    }
    const credential = presentedCredential(c.req.raw.headers);
    const digest = credential === undefined ? undefined : digestOf(credential);
    const key = digest === undefined
      ? undefined
      : access.keys.find((candidate) => sameDigest(candidate.digest, digest));
    if (!key) {
      const response = render(
        new GatewayError(
          401,
          "invalid_api_key",
          credential === undefined
            ? "Send an admin key as Authorization: Bearer <key> or X-API-Key: <key>"
            : "Invalid admin key",
        ),
      );
      response.headers.set("www-authenticate", 'Bearer realm="switchyard-admin"');
      return response;
    }
    c.set("admin", key.id);
    c.set("adminRole", key.role);
    await next();
  };
}
