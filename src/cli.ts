/**
 * The command line: flags, their environment fallbacks, and the help text.
 * @module
 */
import { parseArgs } from "node:util";

/** The help text printed by `--help`. */
export const HELP = `Switchyard: an OpenAI-compatible gateway for self-hosted model servers.

Usage: switchyard [options]

Options:
  --config FILE      YAML config (env SWITCHYARD_CONFIG); without one the embedded default serves
  --port N           port to listen on (env PORT); overrides server.port
  --host ADDR        address to listen on; overrides server.host
  --kv PATH          Deno KV store: a file path, :memory:, or a KV Connect URL shared by
                     several gateways (env SWITCHYARD_KV); default: switchyard.kv here
  --check            validate the config, print every problem, and exit (0 valid, 1 not)
  --help             show this help
  --version          print the version

Environment:
  SWITCHYARD_ADMIN_KEY   an admin key for /admin, besides admin.keys in the config
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
    /** Only validate the config. */
    readonly check: boolean;
  };

/** Reads flags, falling back to the environment. */
export function parseCommandLine(
  args: readonly string[],
  env: (name: string) => string | undefined,
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
        check: { type: "boolean", default: false },
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
  const envPort = env("PORT");
  return {
    kind: "serve",
    configPath: values.config ?? (env("SWITCHYARD_CONFIG") || undefined),
    port: values.port !== undefined
      ? { value: values.port, origin: "--port" }
      : envPort
      ? { value: envPort, origin: "PORT" }
      : undefined,
    host: values.host,
    kvPath: values.kv ?? (env("SWITCHYARD_KV") || "switchyard.kv"),
    check: values.check,
  };
}

function isPortNumber(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) <= 65_535;
}
