/**
 * What answers when every instance of a model failed, besides the fallback models (which
 * `forward` tries in turn): the last answer to the same request from the cache, and at last a
 * clear 503 — or, with no fallback configured, the last backend error as it is. Also keeps
 * successful answers for the cache on their way to the client.
 * @module
 */
import { presentedCredential } from "../../auth/secret.ts";
import { GatewayError } from "../../errors.ts";
import { cacheKey, type ResponseCache, toResponse } from "../../fallback/response_cache.ts";
import type { FallbackSettings } from "../../fallback/settings.ts";
import type { ServiceRuntime } from "../../registry/snapshot.ts";
import type { ClientBody } from "../request/body.ts";
import type { ModelOutcome } from "../types.ts";
import { isStream } from "./stream_types.ts";

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

/** The cached answer to the request with `key`, if the service keeps one still fresh. */
export function cachedAnswer(
  service: ServiceRuntime,
  key: string,
  now: number,
): Response | undefined {
  const cached = service.cache?.get(key, now);
  return cached ? toResponse(cached, now) : undefined;
}

/**
 * The answer once the model and its fallback models failed: without a fallback strategy, the
 * last backend answer as it is (or the gateway's error when there was none); with one, a 503
 * that says what was tried.
 */
export function failureAnswer(
  failed: Extract<ModelOutcome, { kind: "failed" }>,
  context: { readonly model: string; readonly fallback: FallbackSettings },
): Response {
  const { fallback } = context;
  if (fallback.strategy === undefined) {
    if (failed.answered) return failed.answered;
    throw failed.error;
  }
  const alternatives = fallback.models.length > 0
    ? `, and so are its fallback models (${fallback.models.join(", ")})`
    : "";
  throw new GatewayError(
    503,
    "service_unavailable",
    `Model "${context.model}" is unavailable${alternatives}. ${failed.error.message}`,
    { headers: { "retry-after": failed.error.headers["retry-after"] ?? "1" } },
  );
}
