/**
 * `GET`/`DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`: a response kept
 * by a backend that serves the Responses API itself. Its id names no model, so the backends that
 * could keep it (the `responses` instances served natively, one per URL) are asked in turn; the
 * first that has it answers, byte for byte. Responses translated from chat are never kept.
 * @module
 */
import type { ClientIdentity } from "../auth/authenticator.ts";
import { GatewayError } from "../errors.ts";
import { isJsonObject } from "../lib/json.ts";
import type { Snapshot, Upstream } from "../registry/snapshot.ts";
import { transportTarget } from "../transport/target.ts";
import type { UpstreamAnswer } from "../transport/upstream_answer.ts";
import type { ProxyDeps } from "./types.ts";

/** What is asked of a stored response. */
export type StoredResponseAction = "retrieve" | "delete" | "input_items";

/** One request for a stored response. */
export interface StoredResponseRequest {
  readonly id: string;
  readonly action: StoredResponseAction;
  /** The client's query string, `?…` or empty, passed on for `input_items`' paging. */
  readonly query: string;
  readonly identity?: ClientIdentity | undefined;
  /** Aborts when the client leaves. */
  readonly signal: AbortSignal;
}

/** Response ids as OpenAI and the backends make them; nothing that could change the path. */
const RESPONSE_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * The backend's answer about the stored response `request.id`: found by a `GET` on each
 * backend that could keep it, then asked of the one that has it. A response of a model the
 * client's key may not use is not found, as is one no backend has.
 */
export async function storedResponse(
  request: StoredResponseRequest,
  deps: ProxyDeps,
): Promise<Response> {
  const { id } = request;
  if (!RESPONSE_ID.test(id)) throw notFound(id);
  const timeout = deps.server.timeouts["first-byte"] || 30_000;
  const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeout)]);
  const send = (owner: Upstream, method: string, suffix: string) => {
    const url = `${owner.url}/${id}${suffix}`;
    return deps.transport.send(transportTarget(url, { addressCheck: owner.http1.addressCheck }), {
      method,
      headers: new Map(owner.headers),
      body: null,
      signal,
      connectTimeout: deps.server.timeouts.connect,
    });
  };
  for (const owner of keepers(deps)) {
    let found: UpstreamAnswer;
    try {
      found = await send(owner, "GET", "");
    } catch {
      // An instance that cannot be reached keeps nothing this request can see.
      if (request.signal.aborted) return new Response(null, { status: 499 });
      continue;
    }
    if (found.status !== 200) {
      await found.cancel();
      continue;
    }
    const bytes = await found.bytes();
    if (!allowed(bytes, request.identity)) continue;
    if (request.action === "retrieve") return passOn(found, bytes);
    try {
      const answer = request.action === "delete"
        ? await send(owner, "DELETE", "")
        : await send(owner, "GET", `/input_items${request.query}`);
      return passOn(answer, await answer.bytes());
    } catch (cause) {
      if (request.signal.aborted) return new Response(null, { status: 499 });
      throw new GatewayError(
        502,
        "upstream_error",
        `The backend that keeps the response "${id}" failed to answer`,
        { cause },
      );
    }
  }
  throw notFound(id);
}

/** The keepers of each snapshot, found once per config rather than per request. */
const KEEPERS = new WeakMap<Snapshot, readonly Upstream[]>();

/** The natively served `responses` instances, one per URL: those that may keep responses. */
function keepers(deps: ProxyDeps): readonly Upstream[] {
  const snapshot = deps.registry.snapshot;
  let found = KEEPERS.get(snapshot);
  if (found === undefined) {
    const byUrl = new Map<string, Upstream>();
    for (const upstream of snapshot.services.responses.upstreams) {
      if (upstream.status === "active" && upstream.translation === undefined) {
        if (!byUrl.has(upstream.url)) byUrl.set(upstream.url, upstream);
      }
    }
    KEEPERS.set(snapshot, found = [...byUrl.values()]);
  }
  return found;
}

/** Whether the client's key may see a stored response: it may use the response's model. */
function allowed(bytes: Uint8Array, identity: ClientIdentity | undefined): boolean {
  if (identity === undefined) return true;
  try {
    const response: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isJsonObject(response) && typeof response.model === "string" &&
      identity.allows(response.model);
  } catch {
    return false;
  }
}

function passOn(answer: UpstreamAnswer, bytes: Uint8Array<ArrayBuffer>): Response {
  return new Response(bytes, {
    status: answer.status,
    headers: { "content-type": answer.header("content-type") ?? "application/json" },
  });
}

function notFound(id: string): GatewayError {
  return new GatewayError(
    404,
    "response_not_found",
    `No backend that keeps responses has the response "${id}"; responses translated from ` +
      "chat completions are never kept",
    { type: "invalid_request_error" },
  );
}
