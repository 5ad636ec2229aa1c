/**
 * Runs `wrk` with `chat.lua` against one URL and reads the result line the script prints.
 * @module
 */
import { spawn } from "./_process.ts";

const SCRIPT = new URL("./chat.lua", import.meta.url).pathname;

/** What one wrk run measured. */
export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors, timeouts and non-2xx answers; a run with any is not a valid measurement. */
  readonly errors: number;
  readonly errorDetail: string;
}

/** Options for {@linkcode runWrk}. */
export interface WrkOptions {
  readonly connections: number;
  readonly threads: number;
  readonly seconds: number;
  /** Ask for an SSE stream rather than one JSON answer. */
  readonly stream: boolean;
}

interface ScriptResult {
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  errors: Record<string, number>;
}

/** The installed wrk's version line, or undefined when wrk is not installed. */
export async function wrkVersion(): Promise<string | undefined> {
  try {
    // `wrk -v` prints its version and exits non-zero: only the output matters.
    const { stdout } = await new Deno.Command("wrk", { args: ["-v"] }).output();
    const line = new TextDecoder().decode(stdout).split("\n", 1)[0] ?? "";
    return line.replace(/ Copyright.*$/, "").trim() || "wrk";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Drives `url` with wrk for `options.seconds` and returns what it measured. */
export async function runWrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const args = [
    `--threads=${options.threads}`,
    `--connections=${options.connections}`,
    `--duration=${options.seconds}s`,
    "--timeout=10s",
    `--script=${SCRIPT}`,
    url,
    "--",
    options.stream ? "stream" : "json",
  ];
  const child = spawn("wrk", "wrk", args);
  const status = await child.status;
  const line = child.output().split("\n").find((text) => text.startsWith("BENCH_RESULT "));
  if (!status.success || line === undefined) {
    throw new Error(
      `Cannot run wrk ${args.join(" ")}: exit code ${status.code}\n${child.output()}`,
    );
  }
  const result = JSON.parse(line.slice("BENCH_RESULT ".length)) as ScriptResult;
  const seconds = result.durationUs / 1e6;
  const failed = Object.entries(result.errors).filter(([, count]) => count > 0);
  return {
    requests: result.requests,
    seconds,
    rps: result.requests / seconds,
    p50Ms: result.p50Us / 1000,
    p99Ms: result.p99Us / 1000,
    errors: failed.reduce((sum, [, count]) => sum + count, 0),
    errorDetail: failed.map(([kind, count]) => `${count} ${kind}`).join(", "),
  };
}
