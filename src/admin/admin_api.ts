/**
 * The admin API under `/admin`, and what its route modules share: who may call it, reading
 * JSON bodies, describing routes in the OpenAPI document, and making a config change with
 * `If-Match` and the audit trail.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Authenticator } from "../auth/authenticator.ts";
import { isJsonObject, type JsonObject } from "../lib/json.ts";
import type { ConfigEdit, LiveConfig } from "../config/live_config.ts";
import { type ConfigProblem, schemaProblems } from "../config/load.ts";
import { GatewayError } from "../errors.ts";
import type { GatewayApp, GatewayEnv } from "../gateway_env.ts";
import type { Registry } from "../registry/registry.ts";
import { ErrorSchema } from "../routes/schemas.ts";
import { type ApiKeyStore, StoreLimitError, type TeamStore } from "../store/mod.ts";
import type { AdminAccess } from "./admin_guard.ts";
import { adminGuard } from "./admin_guard.ts";
import { CHANGE_REASON_HEADER, changeReason } from "./change_reason.ts";
import { redactedAnswers } from "./redacted_answers.ts";
import { type AdminRole, roleGuard } from "./roles.ts";
import type { AuditLog } from "./audit.ts";
import { etagOf, expectedVersion, staleWrite } from "./preconditions.ts";

/** What the admin API works on. */
export interface AdminDeps {
  readonly live: LiveConfig;
  readonly registry: Registry;
  readonly audit: AuditLog;
  readonly keys: ApiKeyStore;
  readonly teams: TeamStore;
  /** Reads the stored keys and teams into the authenticator, after a change. */
  readonly reloadClients: () => Promise<void>;
  readonly authenticator: Authenticator;
  readonly access: AdminAccess;
  /** `admin.allow-private`. */
  readonly allowPrivate: boolean;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
}

/**
 * Mounts the guard on `/admin/*`, and the redaction of secrets from every answer; the route
 * modules mount the routes.
 */
export function guardAdminRoutes(app: GatewayApp, access: AdminAccess): void {
  for (const path of ["/admin/*", "/admin"]) {
    app.use(path, adminGuard(access));
    app.use(path, roleGuard());
    app.use(path, redactedAnswers());
  }
}

/** Who made an admin request, for versions and the audit trail. */
export function adminOf(c: Context<GatewayEnv>): string {
  return c.get("admin") ?? "admin";
}

/**
 * Who made an admin request, with which role and why (`X-Change-Reason`), for the audit trail
 * and the config version it makes.
 */
export function callerOf(
  c: Context<GatewayEnv>,
): { by: string; role: AdminRole; reason?: string } {
  const reason = changeReason(c.req.header(CHANGE_REASON_HEADER));
  return {
    by: adminOf(c),
    role: c.get("adminRole") ?? "admin",
    ...(reason === undefined ? {} : { reason }),
  };
}

/** The request body as a JSON object; 400 otherwise. */
export async function readJsonObject(c: Context<GatewayEnv>): Promise<JsonObject> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new GatewayError(400, "invalid_json", "The request body is not valid JSON");
  }
  if (!isJsonObject(body)) {
    throw new GatewayError(400, "invalid_request", "The request body must be a JSON object");
  }
  return body;
}

/**
 * `input` parsed by `schema`, or a 400 `invalid_config` naming each problem as the config file's
 * loading would, about `what` ("The team").
 */
export function parsedOr400<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidConfig(schemaProblems(result.error.issues, [], { schema, input }), what);
}

/** The 400 for a change that does not validate, naming every field at fault. */
export function invalidConfig(
  problems: readonly ConfigProblem[],
  what = "The change",
): GatewayError {
  const listed = problems.map((problem) => `${problem.path}: ${problem.message}`).join("; ");
  return new GatewayError(
    400,
    "invalid_config",
    `${what} is not valid: ${listed}`,
    problems[0] ? { param: problems[0].path } : {},
  );
}

/** The 503 for a change that lost the race to other gateways too many times in a row. */
export function busy(): GatewayError {
  return new GatewayError(
    503,
    "config_busy",
    "Other gateways kept changing the config; try again",
    { headers: { "retry-after": "1" } },
  );
}

/**
 * Runs an admin write to the store, turning what the store cannot hold (Deno KV's value or
 * commit limit) into a 413 that names the limit, instead of an internal error.
 */
export async function storing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof StoreLimitError)) throw error;
    throw new GatewayError(413, "too_large_to_store", `${error.message}; nothing was changed`, {
      cause: error,
    });
  }
}

/** The outcome of {@linkcode commitChange}. */
export interface Committed {
  readonly version: number;
  readonly edit: ConfigEdit;
  readonly etag: string;
}

/**
 * Makes a config change for an admin request: `If-Match` must name the live version (412
 * otherwise, 428 without it), the result must validate (400), and it is stored with its
 * audit entry and applied before this resolves.
 */
export async function commitChange(
  c: Context<GatewayEnv>,
  deps: AdminDeps,
  action: string,
  edit: (model: JsonObject) => ConfigEdit,
): Promise<Committed> {
  const expected = expectedVersion(c.req.header("if-match"));
  const result = await storing(() => deps.live.change(expected, { ...callerOf(c), action }, edit));
  if (result.kind === "stale") throw staleWrite(result.current);
  if (result.kind === "invalid") throw invalidConfig(result.problems);
  if (result.kind === "busy") throw busy();
  return { version: result.version, edit: result.edit, etag: etagOf(result.version) };
}

/** OpenAPI responses every admin route may give. */
export const ADMIN_ERRORS = {
  401: {
    description: "No valid admin key",
    content: { "application/json": { schema: ErrorSchema } },
  },
  403: {
    description: "Not on loopback while no admin key is configured",
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;

/** OpenAPI responses of admin writes to the config. */
export const WRITE_ERRORS = {
  ...ADMIN_ERRORS,
  400: {
    description: "Not valid; the message names each field",
    content: { "application/json": { schema: ErrorSchema } },
  },
  412: {
    description: "The config changed since the ETag in If-Match; the current one is in ETag",
    content: { "application/json": { schema: ErrorSchema } },
  },
  413: {
    description: "Too large to store: the message names Deno KV's limit it passes",
    content: { "application/json": { schema: ErrorSchema } },
  },
  428: {
    description: "If-Match is missing",
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;

/** The `If-Match` header, as the OpenAPI document describes it. */
export const IfMatchHeader = z.object({
  "if-match": z.string().openapi({
    description: 'ETag of the config read, e.g. "v12"; * for any version',
  }),
});

/** A JSON body or answer of `schema`, as the OpenAPI document describes it. */
export function jsonContent<T extends z.ZodType>(schema: T) {
  return { "application/json": { schema } };
}
