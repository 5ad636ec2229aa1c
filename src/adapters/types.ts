import type { Capabilities } from "../config/schema.ts";
import type { Translation } from "../proxy/exchange.ts";
import type { ServiceType } from "../services.ts";

/** What a backend reports about its load, read by the `least-load` strategy. */
export interface LoadReading {
  /** Requests the backend is working on now. */
  readonly running?: number;
  /** Requests queued behind them. */
  readonly waiting?: number;
  /** Share of the KV cache in use, 0 to 1. */
  readonly kvCacheUsage?: number;
  /** Models loaded in memory and ready without a cold start. */
  readonly loadedModels?: readonly string[];
}

/** An HTTP resource of the backend and how to read its answer. */
export interface Reader<T> {
  /** Path on the instance's base URL, fetched with `GET`. */
  readonly path: string;
  /**
   * Reads the answer body (parsed JSON for `json`, raw text for `text`); throws a `TypeError`
   * naming what is wrong when the answer is not what the backend should send.
   */
  readonly format: "json" | "text";
  read(body: unknown): T;
}

/**
 * Where a backend tells what its models can take: a JSON resource read with its model list (the
 * model list itself when `path` is the list's, so no second request is made).
 */
export interface CapabilitiesReader {
  /** Path on the instance's base URL, fetched with `GET`. */
  readonly path: string;
  /**
   * The capabilities of each of `models`, the names just listed, as the parsed answer tells;
   * a model it tells nothing of is left out. Throws a `TypeError` on an answer not as expected.
   */
  read(body: unknown, models: readonly string[]): ReadonlyMap<string, Capabilities>;
}

/** How to tell that a backend is up, without spending GPU time. */
export interface HealthProbe {
  /** Path on the instance's base URL, fetched with `GET`, redirects not followed. */
  readonly path: string;
  /** Whether an answer with this status means the backend is up. */
  healthy(status: number): boolean;
}

/**
 * What the gateway knows about one kind of backend. Bodies pass through untouched; the adapter
 * is knowledge: where each service lives, how to probe, list models and read load, and which
 * header carries an API key.
 */
export interface Adapter {
  /** The name used in the config's `adapter:` keys. */
  readonly name: string;
  /** The product's own name, for messages. */
  readonly title: string;
  /**
   * The path of each service this backend serves, used when an instance gives no `path`. A
   * service missing here is one the backend does not serve: configuring it is an error.
   * `messages` is listed only by a backend that serves the Anthropic Messages API itself; the
   * Messages requests for a chat instance of any other are translated to chat.
   */
  readonly defaultPaths: Readonly<Partial<Record<ServiceType, string>>>;
  readonly health: HealthProbe;
  /** The backend's model list. */
  readonly models: Reader<readonly string[]>;
  /** The backend's load, when it exposes it. */
  readonly load?: Reader<LoadReading>;
  /** What its models can take, when it tells. */
  readonly capabilities?: CapabilitiesReader;
  /** Where the load is read when `load` cannot be (a resource the backend may have off). */
  readonly loadFallback?: Reader<LoadReading>;
  /** The header an `api-key` is sent in. */
  authHeader(key: string): readonly [string, string];
  /**
   * Headers sent with every request to this backend, the gateway's own included (such as the
   * API version it speaks); an instance's `headers` replace them by name.
   */
  readonly headers?: readonly (readonly [string, string])[];
  /**
   * The translation an instance of `service` on `path` needs; none speaks OpenAI's API as it
   * is.
   */
  translation?(path: string, service: ServiceType): Translation | undefined;
}
