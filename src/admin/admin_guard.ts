/**
 * Who may use the admin API, and with which role: a client presenting an admin key, or an admin
 * JWT (`admin.jwt`) whose role claim names a role, or — while neither is configured — only a
 * client on loopback. Keys are compared by digest in constant time.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { JwtVerifier, type JwtVerifierOptions } from "../auth/jwt.ts";
import { jwtSettingsOf } from "../auth/jwt_settings.ts";
import { digestOf, presentedCredential, sameDigest, writtenDigest } from "../auth/secret.ts";
import type { AdminConfig } from "../config/schema.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import type { GatewayEnv } from "../gateway_env.ts";
import { CidrSet } from "../net/cidr.ts";
import { ADMIN_ROLES, type AdminRole } from "./roles.ts";

/** The admin keys and JWT verification in force; neither means loopback only. */
export interface AdminAccess {
  readonly keys: readonly {
    readonly id: string;
    readonly digest: string;
    readonly role: AdminRole;
  }[];
  /** Verifies admin JWTs, and the claim that names their role. */
  readonly jwt?: { readonly verifier: JwtVerifier; readonly roleClaim: string } | undefined;
}

/**
 * The admin keys of the config and `SWITCHYARD_ADMIN_KEY`, with ids that reveal nothing, and
 * the verifier of `admin.jwt`.
 */
export function adminAccess(
  config: AdminConfig,
  envKey: string | undefined,
  options: JwtVerifierOptions = {},
): AdminAccess {
  const keys = config.keys.map((key, index) =>
    typeof key === "string"
      ? { id: `admin-${index + 1}`, digest: writtenDigest(key), role: "admin" as const }
      : { id: key.id, digest: writtenDigest(key.key), role: key.role }
  );
  if (envKey) keys.push({ id: "env", digest: writtenDigest(envKey), role: "admin" });
  const jwt = config.jwt;
  return {
    keys,
    jwt: jwt === undefined ? undefined : {
      verifier: new JwtVerifier(jwtSettingsOf(jwt), options),
      roleClaim: jwt["role-claim"],
    },
  };
}

/** Whether `access` lets anyone in from off loopback: it has a key or a JWT verifier. */
export function hasAdminCredentials(access: AdminAccess): boolean {
  return access.keys.length > 0 || access.jwt !== undefined;
}

/** The highest role a role claim names: a role, or a list (or space-separated text) of them. */
function claimedRole(claim: unknown): AdminRole | undefined {
  const named = typeof claim === "string"
    ? claim.split(/\s+/)
    : Array.isArray(claim)
    ? claim.filter((item): item is string => typeof item === "string")
    : [];
  return [...ADMIN_ROLES].reverse().find((role) => named.includes(role));
}

const LOOPBACK = new CidrSet(["127.0.0.0/8", "::1/128"]);

/** Lets admin requests through, naming the admin in `c.var.admin`; refuses the rest. */
export function adminGuard(
  access: AdminAccess,
  render: (error: GatewayError) => Response = errorResponse,
): MiddlewareHandler<GatewayEnv> {
  return async function adminGuard(c, next) {
    if (!hasAdminCredentials(access)) {
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
    if (access.jwt && credential !== undefined && JwtVerifier.looksLikeJwt(credential)) {
      const result = await access.jwt.verifier.verify(credential);
      if (!result.ok) return unauthorized(render, `Invalid admin token: ${result.reason}`);
      const role = claimedRole(result.claims[access.jwt.roleClaim]);
      if (role === undefined) {
        return render(
          new GatewayError(
            403,
            "insufficient_role",
            `The admin token's "${access.jwt.roleClaim}" claim names no admin role ` +
              `(${ADMIN_ROLES.join(", ")})`,
          ),
        );
      }
      const subject = typeof result.claims.sub === "string" ? result.claims.sub : "unknown";
      c.set("admin", `jwt:${subject}`);
      c.set("adminRole", role);
      return await next();
    }
    const digest = credential === undefined ? undefined : digestOf(credential);
    const key = digest === undefined
      ? undefined
      : access.keys.find((candidate) => sameDigest(candidate.digest, digest));
    if (!key) {
      return unauthorized(
        render,
        credential === undefined
          ? "Send an admin key as Authorization: Bearer <key> or X-API-Key: <key>"
          : "Invalid admin key",
      );
    }
    c.set("admin", key.id);
    c.set("adminRole", key.role);
    await next();
  };
}

/** A 401 that asks for a bearer credential. */
function unauthorized(render: (error: GatewayError) => Response, message: string): Response {
  const response = render(new GatewayError(401, "invalid_api_key", message));
  response.headers.set("www-authenticate", 'Bearer realm="switchyard-admin"');
  return response;
}
