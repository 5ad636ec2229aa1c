/**
 * The gateway's own requests to a backend, none of which spends GPU time: the health probe,
 * the model list and the load. Redirects are never followed, and each has a deadline.
 * @module
 */
import type { Adapter, LoadReading, Reader } from "../adapters/types.ts";
import type { Capabilities } from "../config/schema.ts";
import { causeChain, knownCause } from "../lib/error_causes.ts";
import type { AddressCheck } from "../net/address_policy.ts";
import { AddressRefused, ProxyRefused, TlsFailure } from "../transport/errors.ts";
import { transportTarget } from "../transport/target.ts";
import type { Transport } from "../transport/transport.ts";
import type { UpstreamAnswer } from "../transport/upstream_answer.ts";
import type { ProbeResult } from "./health_checks.ts";

/** Where a backend is and how to reach it. */
export interface BackendTarget {
  readonly baseUrl: string;
  readonly adapter: Adapter;
  /** Headers for the gateway's own requests: the instance's `headers` and `api-key`. */
  readonly headers: readonly (readonly [string, string])[];
  /** Which addresses it may be reached at; undefined trusts every address. */
  readonly addressCheck?: AddressCheck | undefined;
}

/** Options shared by the requests. */
export interface RequestOptions {
  /** ms the request may take. */
  readonly timeout: number;
  /** How the requests reach the backend: the transport the proxy uses. */
  readonly transport: Transport;
}

/** `GET`s a path of the backend with a deadline; the body is left for the caller. */
function get(
  target: BackendTarget,
  path: string,
  options: RequestOptions,
): Promise<UpstreamAnswer> {
  const url = target.baseUrl + path;
  return options.transport.send(transportTarget(url, { addressCheck: target.addressCheck }), {
    method: "GET",
    headers: new Map(target.headers),
    body: null,
    signal: AbortSignal.timeout(options.timeout),
    connectTimeout: options.timeout,
  });
}

/** Why a request to the backend failed, and whether it proves the backend cannot serve. */
function transportFailure(error: unknown, timeout: number): { reason: string; decisive: boolean } {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return { reason: `no answer within ${timeout} ms`, decisive: false };
  }
  // The address policy will refuse the next probe as well, and the handshake fail again.
  if (error instanceof AddressRefused || error instanceof TlsFailure) {
    return { reason: error.message, decisive: true };
  }
  const known = knownCause(causeChain(error));
  return {
    reason: known ? `cannot connect (${known})` : `request failed: ${causeChain(error)}`,
    // Through a proxy, the proxy says the connection was refused.
    decisive: known === "connection refused" ||
      (error instanceof ProxyRefused && error.error === "connection_refused"),
  };
}

/** Probes the backend's health endpoint. */
export async function probeHealth(
  target: BackendTarget,
  options: RequestOptions,
): Promise<ProbeResult> {
  const { path, healthy } = target.adapter.health;
  let response: UpstreamAnswer;
  try {
    response = await get(target, path, options);
  } catch (error) {
    return { ok: false, ...transportFailure(error, options.timeout) };
  }
  await response.cancel();
  if (healthy(response.status)) return { ok: true };
  return {
    ok: false,
    reason: `GET ${path} answered ${response.status}`,
    decisive: response.status >= 500,
  };
}

/** Reads a resource of the backend through an adapter's reader; throws an `Error` saying why not. */
async function readResource<T>(
  target: BackendTarget,
  reader: Reader<T>,
  options: RequestOptions,
): Promise<T> {
  let response: UpstreamAnswer;
  try {
    response = await get(target, reader.path, options);
  } catch (error) {
    throw new Error(transportFailure(error, options.timeout).reason);
  }
  if (response.status !== 200) {
    await response.cancel();
    throw new Error(`GET ${reader.path} answered ${response.status}`);
  }
  try {
    const text = await response.text();
    return reader.read(reader.format === "json" ? JSON.parse(text) : text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`GET ${reader.path} answered something unexpected: ${reason}`);
  }
}

/** The models the backend lists. */
export function readModels(
  target: BackendTarget,
  options: RequestOptions,
): Promise<readonly string[]> {
  return readResource(target, target.adapter.models, options);
}

/** A backend's model list, and what it tells of its models' capabilities. */
export interface ModelList {
  readonly models: readonly string[];
  /** Per listed model, where the adapter can read them; undefined where it cannot. */
  readonly capabilities: ReadonlyMap<string, Capabilities> | undefined;
}

/**
 * The models the backend lists, with their capabilities where its adapter reads them: from the
 * same answer, or from one more request; undefined when that one fails.
 */
export async function readModelList(
  target: BackendTarget,
  options: RequestOptions,
): Promise<ModelList> {
  const { models: list, capabilities: reader } = target.adapter;
  if (reader === undefined) {
    return { models: await readResource(target, list, options), capabilities: undefined };
  }
  if (reader.path === list.path) {
    return await readResource(target, {
      ...list,
      read(body) {
        const models = list.read(body);
        return { models, capabilities: reader.read(body, models) };
      },
    }, options);
  }
  const models = await readResource(target, list, options);
  const capabilities = await readResource(target, {
    path: reader.path,
    format: "json",
    read: (body) => reader.read(body, models),
  }, options).catch(() => undefined);
  return { models, capabilities };
}

/** The load the backend reports; throws when its adapter cannot read one. */
export async function readLoad(
  target: BackendTarget,
  options: RequestOptions,
): Promise<LoadReading> {
  const { load, loadFallback } = target.adapter;
  if (!load) throw new TypeError(`Cannot read the load of ${target.adapter.title}`);
  try {
    return await readResource(target, load, options);
  } catch (error) {
    if (!loadFallback) throw error;
    try {
      return await readResource(target, loadFallback, options);
    } catch {
      throw error;
    }
  }
}
