/**
 * The command line: flags, their environment fallbacks, and the help text.
 * @module
 */
import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

/** The help text printed by `--help`. */
export const HELP = `Switchyard: an OpenAI-compatible gateway for self-hosted model servers.

Usage: switchyard [options]

Options:
  --config FILE      YAML config (env SWITCHYARD_CONFIG); without one the embedded default serves
  --port N           port to listen on (env PORT); overrides server.port
  --host ADDR        address to listen on; overrides server.host
  --kv PATH          Deno KV store: a file path, :memory:, or a KV Connect URL shared by
                     several gateways (env SWITCHYARD_KV); default: a file for this config in
                     the state directory ($STATE_DIRECTORY, $XDG_STATE_HOME/switchyard or
                     ~/.local/state/switchyard)
  --workers N        serve the port from N workers in this process (env SWITCHYARD_WORKERS;
                     default 1; "auto": one per CPU); Linux only
  --redis URL        Redis or Valkey (redis://HOST:PORT) that gateways on several hosts share
                     for their rate and token limits' counts (env SWITCHYARD_REDIS); without
                     it they are shared through the --kv store
  --check            validate the config, print every problem, and exit (0 valid, 1 not)
  --help             show this help
  --version          print the version

Environment:
  SWITCHYARD_ADMIN_KEY   an admin key for /admin, besides admin.keys in the config
  SWITCHYARD_SECRET_KEY  seals instance secrets (api-key, secret headers) in the store;
                         SWITCHYARD_PREVIOUS_SECRET_KEYS still open what older keys sealed
                         (each also as a file: SWITCHYARD_SECRET_KEY_FILE, ..._KEYS_FILE)
  DENO_KV_ACCESS_TOKEN   the token for a KV Connect URL given to --kv
`;

/** What the command line asks for. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "error"; readonly message: string }
  | {
    readonly kind: "serve";
    /** The config file, or undefined for the embedded default. */
    readonly configPath: string | undefined;
    /** `--port`/`PORT`, unparsed, with where it came from. */
    readonly port: { readonly value: string; readonly origin: string } | undefined;
    readonly host: string | undefined;
    readonly kvPath: string;
    /** `kvPath` is the default one, in a folder that may not exist yet. */
    readonly kvDefault: boolean;
    /** `--redis`/`SWITCHYARD_REDIS`: where limits' counts are shared; undefined for the store. */
    readonly redisUrl: string | undefined;
    /** Only validate the config. */
    readonly check: boolean;
    /** How many workers serve the port: `--workers`/`SWITCHYARD_WORKERS`, 1 without. */
    readonly workers: number;
  };

/** The most workers `--workers` takes. */
export const MAX_WORKERS = 256;

/** Reads flags, falling back to the environment; relative paths are read from `cwd`. */
export function parseCommandLine(
  args: readonly string[],
  env: (name: string) => string | undefined,
  cwd = ".",
): Command {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        kv: { type: "string" },
        redis: { type: "string" },
        check: { type: "boolean", default: false },
        workers: { type: "string" },
        help: { type: "boolean", default: false },
        version: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    return { kind: "error", message: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  if (values.port !== undefined && !isPortNumber(values.port)) {
    return {
      kind: "error",
      message: `Invalid --port "${values.port}": expected a port number from 0 to 65535`,
    };
  }
  const workersText = values.workers ?? (env("SWITCHYARD_WORKERS") || undefined);
  const workers = workersText === undefined ? 1 : workerCount(workersText);
  if (workers === undefined) {
    const origin = values.workers !== undefined ? "--workers" : "SWITCHYARD_WORKERS";
    return {
      kind: "error",
      message: `Invalid ${origin} "${workersText}": expected a number of workers from 1 to ` +
        `${MAX_WORKERS}, or auto for one per CPU`,
    };
  }
  const envPort = env("PORT");
  const kvPath = values.kv ?? (env("SWITCHYARD_KV") || undefined);
  if (workers > 1 && kvPath === ":memory:") {
    return {
      kind: "error",
      message: `--workers ${workers} needs a store the workers share, and :memory: would be one ` +
        "per worker: give --kv a file, or leave it out for the default one",
    };
  }
  const configPath = values.config ?? (env("SWITCHYARD_CONFIG") || undefined);
  const redisUrl = values.redis ?? (env("SWITCHYARD_REDIS") || undefined);
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/]/.test(redisUrl)) {
    return {
      kind: "error",
      message: `Invalid --redis "${redisUrl}": expected a redis:// or rediss:// URL`,
    };
  }
  return {
    kind: "serve",
    configPath,
    port: values.port !== undefined
      ? { value: values.port, origin: "--port" }
      : envPort
      ? { value: envPort, origin: "PORT" }
      : undefined,
    host: values.host,
    kvPath: kvPath ?? defaultStorePath(configPath, env, cwd),
    kvDefault: kvPath === undefined,
    redisUrl,
    check: values.check,
    workers,
  };
}

/** `auto` as the number of CPUs, else a whole number from 1 to {@link MAX_WORKERS}. */
function workerCount(text: string): number | undefined {
  if (text === "auto") return Math.min(MAX_WORKERS, Math.max(1, navigator.hardwareConcurrency));
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const count = Number(text);
  return count >= 1 && count <= MAX_WORKERS ? count : undefined;
}

function isPortNumber(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) <= 65_535;
}

/**
 * Where the store lives when no `--kv` says: in the state directory (systemd's
 * `$STATE_DIRECTORY`, else `$XDG_STATE_HOME/switchyard`, else `~/.local/state/switchyard`), one
 * file per config, so that runtime changes made under one config never surface under another:
 * `default.kv` for the embedded default, `<name>-<digest of its absolute path>.kv` for a file.
 */
export function defaultStorePath(
  configPath: string | undefined,
  env: (name: string) => string | undefined,
  cwd: string,
): string {
  const stateDirectory = env("STATE_DIRECTORY")?.split(":")[0] ||
    (env("XDG_STATE_HOME") ? join(env("XDG_STATE_HOME")!, "switchyard") : undefined) ||
    (env("HOME") ? join(env("HOME")!, ".local", "state", "switchyard") : cwd);
  if (configPath === undefined) return join(stateDirectory, "default.kv");
  const absolute = resolve(cwd, configPath);
  const name = basename(absolute).replace(/\.[^.]*$/, "") || "config";
  const digest = createHash("sha256").update(absolute).digest("hex").slice(0, 8);
  return join(stateDirectory, `${name}-${digest}.kv`);
}
