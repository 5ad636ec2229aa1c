/**
 * What answers when every instance of a model failed: the last answer to the same request
 * from the cache, then the fallback models in order, then a clear 503 — or, with no fallback
 * configured, the last backend error as it is.
 * @module
 */
import { GatewayError } from "../errors.ts";
import { cacheKey, type ResponseCache, toResponse } from "../fallback/response_cache.ts";
import type { ServiceRuntime } from "../registry/snapshot.ts";
import { isStream } from "./attempt/attempt.ts";
import { type ClientBody, replaceModel } from "./body.ts";
import { presentedCredential } from "../auth/secret.ts";
import { baseUpstreamHeaders } from "./headers.ts";
import { type ModelOutcome, type ModelRequest, tryModel } from "./model_attempts.ts";

/** Names the model that answered instead of the requested one. */
export const FALLBACK_MODEL_HEADER = "x-switchyard-fallback-model";

/** The key of a request in its service's answer cache. */
export function requestCacheKey(
  service: ServiceRuntime,
  body: ClientBody,
  headers: Headers,
): string {
  return cacheKey({
    service: service.type,
    model: body.model,
    body: body.bytes,
    credential: presentedCredential(headers),
  });
}

/**
 * Keeps a copy of a successful, non-streamed answer for the `cache` fallback as it goes to
 * the client; the copy is stored once the whole body went through.
 */
export function cacheOnTheWay(
  response: Response,
  target: { readonly cache: ResponseCache; readonly key: string; readonly now: () => number },
): Response {
  if (
    response.status < 200 || response.status >= 300 || response.body === null ||
    isStream(response.headers.get("content-type"))
  ) {
    return response;
  }
  const limit = target.cache.maxEntryBytes;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const copy = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.byteLength;
      if (size <= limit) chunks.push(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      if (size > limit) return;
      const body = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      target.cache.set(target.key, {
        status: response.status,
        headers: [...response.headers],
        body,
      }, target.now());
    },
  });
  return new Response(response.body.pipeThrough(copy), response);
}

/** Answers a failed request from the fallbacks, or passes the failure on. */
export async function fallBack(
  failed: Extract<ModelOutcome, { kind: "failed" }>,
  context: {
    readonly body: ClientBody;
    readonly shared: ModelRequest;
    /** The request's cache key, when its service caches answers. */
    readonly cacheKey: string | undefined;
  },
): Promise<Response> {
  const { body, shared } = context;
  const { service, deps } = shared;
  const clock = deps.now ?? Date.now;
  const settings = service.fallback;
  if (service.cache && context.cacheKey !== undefined && !body.stream) {
    const cached = service.cache.get(context.cacheKey, clock());
    if (cached) {
      shared.request.record.fellBack("cache");
      return toResponse(cached, clock());
    }
  }
  for (const model of settings.models) {
    if (model === body.model) continue;
    const pool = service.resolve(model);
    if (!pool) continue;
    const rewritten = await replaceModel(body, model);
    const outcome = await tryModel(pool, rewritten, {
      ...shared,
      base: baseUpstreamHeaders(shared.request.request.headers, {
        requestId: shared.request.requestId,
        forwardedFor: shared.request.forwardedFor,
        contentType: rewritten.contentType,
        traced: deps.tracing ?? false,
      }),
    });
    if (outcome.kind === "answered") {
      shared.request.record.fellBack(model);
      outcome.response.headers.set(FALLBACK_MODEL_HEADER, model);
      return outcome.response;
    }
    if (outcome.kind === "client-gone") return new Response(null, { status: 499 });
  }
  if (settings.strategy === undefined) {
    if (failed.answered) return failed.answered;
    throw failed.error;
  }
  const alternatives = settings.models.length > 0
    ? `, and so are its fallback models (${settings.models.join(", ")})`
    : "";
  throw new GatewayError(
    503,
    "service_unavailable",
    `Model "${body.model}" is unavailable${alternatives}. ${failed.error.message}`,
    { headers: { "retry-after": failed.error.headers["retry-after"] ?? "1" } },
  );
}
