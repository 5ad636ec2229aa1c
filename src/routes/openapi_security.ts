/**
 * The credentials of the OpenAPI document: the schemes a client and an admin authenticate with,
 * and which one each operation takes, so that the docs page can send a key.
 * @module
 */
import type { GatewayApp } from "../gateway_env.ts";

/** The OpenAPI 3.1 document the app generates. */
export type OpenApiDocument = ReturnType<GatewayApp["getOpenAPI31Document"]>;

/** The security schemes, by name. */
export const SECURITY_SCHEMES = {
  clientKey: {
    type: "http",
    scheme: "bearer",
    description: "A client key (`auth.keys`, or one made through the admin API) or a JWT, " +
      "when client authentication is on; without it, the /v1 routes need no key.",
  },
  clientKeyHeader: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "The same client key, sent as Anthropic's SDK sends it.",
  },
  adminKey: {
    type: "http",
    scheme: "bearer",
    description: "An admin key (`admin.keys` or `SWITCHYARD_ADMIN_KEY`); with none configured, " +
      "the admin API answers only on loopback.",
  },
} as const;

const CLIENT = [{ clientKey: [] }, { clientKeyHeader: [] }];
const ADMIN = [{ adminKey: [] }];

/** The requirement of an operation on `path`: admin routes take an admin key, /v1 a client key. */
function requirementOf(path: string): typeof CLIENT | typeof ADMIN | undefined {
  if (path.startsWith("/admin/") || path === "/admin") return ADMIN;
  if (path.startsWith("/v1/") || path.startsWith("/api/v1/")) return CLIENT;
  return undefined;
}

/**
 * `document` with the security schemes declared and each operation's requirement set, where
 * the operation does not state its own.
 */
export function withSecurity(document: OpenApiDocument): OpenApiDocument {
  const paths = Object.fromEntries(
    Object.entries(document.paths ?? {}).map(([path, item]) => {
      const security = requirementOf(path);
      if (security === undefined) return [path, item];
      const operations = Object.fromEntries(
        Object.entries(item).map(([method, operation]) =>
          isOperation(method, operation) && operation.security === undefined
            ? [method, { ...operation, security }]
            : [method, operation]
        ),
      );
      return [path, operations];
    }),
  );
  return {
    ...document,
    paths,
    components: {
      ...document.components,
      securitySchemes: { ...document.components?.securitySchemes, ...SECURITY_SCHEMES },
    },
  };
}

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

function isOperation(method: string, value: unknown): value is { security?: unknown } {
  return METHODS.has(method) && typeof value === "object" && value !== null;
}
