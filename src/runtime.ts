/**
 * The few runtime services the core needs that Web APIs lack. Everything Deno-specific outside
 * `main.ts` and the KV store lives here.
 * @module
 */
import { lookup } from "node:dns/promises";

/** Where a TCP connection goes. */
interface TcpTarget {
  readonly hostname: string;
  readonly port: number;
}

/** Every address of a host name, in the order to try them; rejects when it has none. */
export type Resolve = (hostname: string, signal: AbortSignal) => Promise<string[]>;

/** Options for {@linkcode tcpConnect}. */
export interface TcpConnectOptions {
  /** Resolves host names. @default the system resolver, hosts file included */
  readonly resolve?: Resolve;
  /**
   * Those of the target's addresses that may be tried, in order; throws when none may. An
   * address target is passed through it too. @default every address
   */
  readonly allowed?: (addresses: readonly string[]) => readonly string[];
}

/**
 * Opens a TCP connection to the first of the host's addresses that accepts one, in the order
 * the resolver gives them (so `localhost` reaches a server on `127.0.0.1` even where it
 * resolves to `::1` first), with Nagle's algorithm off: requests and chunks go out at once.
 * The connection goes to an address, never to the name, so what `allowed` let through is what
 * is connected to.
 */
export async function tcpConnect(
  target: TcpTarget,
  signal: AbortSignal,
  options: TcpConnectOptions = {},
): Promise<Deno.TcpConn> {
  const resolved = isIpAddress(target.hostname)
    ? [target.hostname]
    : await (options.resolve ?? addressesOf)(target.hostname, signal);
  const addresses = options.allowed ? options.allowed(resolved) : resolved;
  const connection = await firstThatOpens(
    addresses,
    (hostname) => Deno.connect({ hostname, port: target.port, signal }),
    signal,
  );
  connection.setNoDelay(true);
  return connection;
}

/**
 * The first connection `open` makes, trying `addresses` in order; when none opens, the first
 * address's error. An abort stops at once.
 */
export async function firstThatOpens<T>(
  addresses: readonly string[],
  open: (address: string) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  let firstError: unknown;
  for (const address of addresses) {
    try {
      return await open(address);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      firstError ??= error;
    }
  }
  throw firstError;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function isIpAddress(hostname: string): boolean {
  return IPV4.test(hostname) || hostname.includes(":");
}

/** Every address of `hostname`, from the system resolver (hosts file included). */
async function addressesOf(hostname: string, signal: AbortSignal): Promise<string[]> {
  signal.throwIfAborted();
  const aborted = Promise.withResolvers<never>();
  const stop = () => aborted.reject(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  try {
    const found = await Promise.race([lookup(hostname, { all: true }), aborted.promise]);
    return found.map((entry) => entry.address);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new Error(`dns error: ${hostname} could not be resolved`, { cause: error });
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/** The URL of `host:port`, an IPv6 address in brackets. */
export function httpUrlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Why the gateway cannot listen on `host:port`, from the runtime's error, as a sentence. */
export function listenFailure(error: unknown, host: string, port: number): string {
  const where = httpUrlOf(host, port);
  if (error instanceof Deno.errors.AddrInUse) {
    return `Cannot listen on ${where}: the port is already in use. Stop what listens there, ` +
      `or choose another port with --port N`;
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `Cannot listen on ${where}: permission denied (ports below 1024 need ` +
      `CAP_NET_BIND_SERVICE). Choose a port above 1023 with --port N`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `Cannot listen on ${where}: no network interface has the address ${host}. ` +
      `Choose another with --host ADDR`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `Cannot listen on ${where}: ${message}`;
}

/** Why the gateway could not listen on `host:port`, trying it and letting go; undefined if it can. */
export function listenProblem(host: string, port: number): string | undefined {
  if (port === 0) return undefined;
  try {
    Deno.listen({ hostname: host, port }).close();
    return undefined;
  } catch (error) {
    return listenFailure(error, host, port);
  }
}

/** Resident memory and a way to give freed memory back to the system. */
export interface MemoryTrim {
  /** The process's resident memory, in bytes. */
  readonly rss: () => number;
  /** Collects garbage and returns the pages the allocator keeps to the system. */
  readonly release: () => void;
}

/**
 * Deno's own memory trim, when the process was started with `DENO_USR2_MEMORY_TRIM` set (Linux
 * only): Deno then answers SIGUSR2 with glibc's `malloc_trim(0)` and a full V8 collection. Memory
 * that V8 and the allocator freed stays resident without it, since glibc returns freed pages
 * only from the top of its heap. Undefined otherwise.
 *
 * Turning it on also listens for SIGUSR2 here, for nothing: a signal with no handler ends the
 * process, and Deno installs its own only shortly after start, on a thread of its own, and only
 * in a runtime that knows the variable.
 */
export function memoryTrim(env: (name: string) => string | undefined): MemoryTrim | undefined {
  if (Deno.build.os !== "linux" || env(MEMORY_TRIM_VARIABLE) === undefined) return undefined;
  Deno.addSignalListener("SIGUSR2", () => {});
  return {
    rss: () => Deno.memoryUsage().rss,
    release() {
      Deno.kill(Deno.pid, "SIGUSR2");
      // Deno trims before it collects, so what the collection frees stays with the allocator
      // until a second signal trims it.
      const second = setTimeout(() => Deno.kill(Deno.pid, "SIGUSR2"), SECOND_TRIM_DELAY_MS);
      Deno.unrefTimer(second);
    },
  };
}

/** How long after a release its second signal follows, in ms: its collection is over by then. */
const SECOND_TRIM_DELAY_MS = 500;

/** The environment variable that turns on Deno's SIGUSR2 memory trim, read by Deno at start. */
export const MEMORY_TRIM_VARIABLE = "DENO_USR2_MEMORY_TRIM";

/**
 * V8's flags for the gateway, as `deno task start` and `deno task compile` pass them: a young
 * generation large enough for what thousands of open streams keep alive between two chunks, so
 * that it dies young instead of being copied at every scavenge and promoted to the old space to
 * wait for a full collection (bench/results/2026-12-05-streams-after.md: 5,000 streams peaked
 * 12–16% lower, with shorter pauses).
 */
export const V8_FLAGS =
  "--semi-space-growth-factor=4,--min-semi-space-size=32,--max-semi-space-size=64";
