/**
 * `GET /admin/requests/{id}`: one of the latest finished client requests, by the id the gateway
 * answered it with (`x-request-id`): which instance served it, after how many attempts, how
 * fast, and the tokens it counted. The console's playground shows it for each answer.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { GatewayError } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { RecentRequest, RecentRequests } from "../observe/recent_requests.ts";
import type { Peers } from "../workers/peers.ts";
import { ErrorSchema } from "../routes/schemas.ts";
import { ADMIN_ERRORS, jsonContent } from "./admin_api.ts";

const RecentRequestSchema = z.object({
  request_id: z.string(),
  at: z.string().describe("ISO time it arrived"),
  service: z.string(),
  model: z.string().nullable().describe("the model as the client named it"),
  instance: z.string().nullable().describe("the instance tried last: the one that answered"),
  attempts: z.number().int().describe("instances tried"),
  fallback: z.string().nullable().describe("`cache` or the fallback model that answered"),
  status: z.number().int(),
  outcome: z.string().describe("how the answer ended: complete, client_closed, timeout…"),
  time_to_first_token_ms: z.number().nullable().describe("to a stream's first chunk"),
  duration_ms: z.number(),
  input_tokens: z.number().int().nullable(),
  output_tokens: z.number().int().nullable().describe(
    "as the backend reported them, else counted from a stream's events",
  ),
}).openapi("RecentRequest", {
  example: {
    request_id: "0d6f3a0e-2c1f-4d7e-9a53-5b7b1c9d2e10",
    at: "2026-12-05T10:00:00.000Z",
    service: "chat",
    model: "qwen3-8b",
    instance: "qwen3-8b@http://gpu-1:8000/v1/chat/completions",
    attempts: 1,
    fallback: null,
    status: 200,
    outcome: "complete",
    time_to_first_token_ms: 182.4,
    duration_ms: 2410.7,
    input_tokens: 24,
    output_tokens: 310,
  },
});

/** Mounts `GET /admin/requests/{id}`. */
export function mountRequestRoutes(
  app: GatewayApp,
  recent: RecentRequests,
  peers?: Peers | undefined,
): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/admin/requests/{id}",
    tags: ["Admin: metrics"],
    summary: "One of the latest finished requests, by its x-request-id",
    description: `The gateway keeps the last ${recent.size} finished requests, in memory.`,
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: { description: "The request", content: jsonContent(RecentRequestSchema) },
      404: {
        description: "Not among the latest, or not finished yet",
        content: jsonContent(ErrorSchema),
      },
      ...ADMIN_ERRORS,
    },
  });
  app.get("/admin/requests/:id", async (c) => {
    const id = c.req.param("id");
    const request = recent.get(id);
    if (request !== undefined) {
      return c.json(described(request), 200, { "cache-control": "no-store" });
    }
    // With several workers, the request may have been served by another.
    const answers = peers ? await peers.ask({ kind: "request", id }) : [];
    const elsewhere = answers.find((answer) => answer.text !== undefined)?.text;
    if (elsewhere === undefined) {
      throw new GatewayError(
        404,
        "request_not_found",
        `No finished request "${id}" among the latest ${recent.size}`,
        { param: "id" },
      );
    }
    return c.body(elsewhere, 200, {
      "content-type": "application/json",
      "cache-control": "no-store",
    });
  });
}

/** A worker's answer to another's question for request `id`: the request as JSON, if it has it. */
export function requestAnswer(recent: RecentRequests, id: string): string | undefined {
  const request = recent.get(id);
  return request === undefined ? undefined : JSON.stringify(described(request));
}

/** A finished request as `GET /admin/requests/{id}` answers it. */
function described(request: RecentRequest) {
  return {
    request_id: request.requestId,
    at: new Date(request.arrivedAt).toISOString(),
    service: request.service,
    model: request.model,
    instance: request.instance,
    attempts: request.attempts,
    fallback: request.fallback,
    status: request.status,
    outcome: request.outcome,
    time_to_first_token_ms: request.timeToFirstToken === null
      ? null
      : tenths(request.timeToFirstToken),
    duration_ms: tenths(request.duration),
    input_tokens: request.inputTokens,
    output_tokens: request.outputTokens,
  };
}

/** ms to a tenth. */
function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}
