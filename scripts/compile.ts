/**
 * `deno task compile`: builds `dist/switchyard` with `deno compile`, and when that fails because
 * Deno's runtime (`denort`) cannot be had — no network, or a `DENORT_BIN` that points nowhere —
 * says so and how to supply it, removes the `dist/` it left empty, and exits non-zero.
 *
 * ```sh
 * deno task compile                          # writes dist/switchyard
 * deno task compile --target aarch64-apple-darwin
 * DENORT_BIN=/opt/deno/denort deno task compile
 * ```
 *
 * Arguments are passed on to `deno compile` before the entry point; an `--output` (`-o`) among
 * them replaces `dist/switchyard`.
 *
 * The workers of `--workers N` run `main.ts` again, the entry point, so the binary holds their
 * module with no `--include`; `deno compile` takes the unstable APIs they use (`reusePort`, the
 * KV store) from `deno.json`'s `unstable` list, as `deno run` does.
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { V8_FLAGS } from "../src/runtime.ts";

/** The permissions the binary runs with. */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
] as const;

/** Where the binary goes unless `--output` says otherwise, relative to the repository. */
export const DEFAULT_OUTPUT = "dist/switchyard";

/** What the guidance is about: the Deno version and the target the runtime is needed for. */
export interface Build {
  /** Deno's version, e.g. `2.9.6`. */
  readonly version: string;
  /** The target triple, e.g. `x86_64-unknown-linux-gnu`. */
  readonly target: string;
}

/** The value of `--output`/`-o` (either `--output x` or `--output=x`), if `args` has one. */
export function outputOf(args: readonly string[]): string | undefined {
  return flagValue(args, ["--output", "-o"]);
}

/** The value of `--target`, if `args` has one. */
export function targetOf(args: readonly string[]): string | undefined {
  return flagValue(args, ["--target"]);
}

function flagValue(args: readonly string[], names: readonly string[]): string | undefined {
  let found: string | undefined;
  args.forEach((arg, index) => {
    for (const name of names) {
      if (arg === name) found = args[index + 1];
      else if (arg.startsWith(`${name}=`)) found = arg.slice(name.length + 1);
    }
  });
  return found;
}

/**
 * The guidance for a failed `deno compile`, from what it printed on stderr; `undefined` when the
 * failure is not about getting the runtime (then `deno compile`'s own message says it all).
 */
export function explainFailure(stderr: string, build: Build): string | undefined {
  const asset = `denort-${build.target}.zip`;
  const missing = /Could not find denort at '([^']*)'/.exec(stderr);
  let problem: string;
  if (missing) {
    problem = `DENORT_BIN is set to "${missing[1]}", but there is no file there.`;
  } else if (stderr.includes(asset) || /Setting up base binary/.test(stderr)) {
    const cause = /dns error|Connect|timed out|certificate|status/i.test(stderr)
      ? " (no network connection to dl.deno.land?)"
      : "";
    problem = `deno compile could not download Deno's runtime, ${asset}${cause}.`;
  } else {
    return undefined;
  }
  const url = `https://dl.deno.land/release/v${build.version}/${asset}`;
  return [
    `Building the binary failed: ${problem}`,
    "",
    `deno compile needs denort, the runtime of Deno ${build.version} for ${build.target}.`,
    "On a machine without internet access, set DENORT_BIN to such a binary:",
    "",
    `  DENORT_BIN=/path/to/denort deno task compile`,
    "",
    "To get one, on a machine with network either",
    `  - download ${url}`,
    `    (also attached to the v${build.version} release of github.com/denoland/deno) and unzip it, or`,
    `  - run deno compile there once: Deno keeps ${asset} in its cache, under`,
    `    <DENO_DIR>/dl/release/v${build.version}/ (deno info shows DENO_DIR),`,
    "and copy the unzipped denort here. Its version must be exactly the one of the deno that compiles.",
  ].join("\n");
}

/** Runs `deno compile`; returns its exit code. */
async function compile(args: readonly string[], repo: string): Promise<number> {
  const output = outputOf(args) ?? DEFAULT_OUTPUT;
  const outputArgs = outputOf(args) === undefined ? ["--output", DEFAULT_OUTPUT] : [];
  const outputDir = dirname(isAbsolute(output) ? output : join(repo, output));
  const dirExisted = await exists(outputDir);

  const child = new Deno.Command(Deno.execPath(), {
    args: ["compile", ...PERMISSIONS, `--v8-flags=${V8_FLAGS}`, ...outputArgs, ...args, "main.ts"],
    cwd: repo,
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Passed on as it comes, and kept to tell what failed.
  let stderr = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    stderr += decoder.decode(chunk, { stream: true });
    await Deno.stderr.write(chunk);
  }
  const { code } = await child.status;
  if (code === 0) return 0;

  if (!dirExisted) await removeIfEmpty(outputDir);
  const guidance = explainFailure(stderr, {
    version: Deno.version.deno,
    target: targetOf(args) ?? Deno.build.target,
  });
  if (guidance !== undefined) console.error(`\n${guidance}`);
  return code;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Removes the directory `deno compile` created but wrote nothing into. */
async function removeIfEmpty(path: string): Promise<void> {
  try {
    for await (const _ of Deno.readDir(path)) return;
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

if (import.meta.main) {
  const repo = fileURLToPath(new URL("../", import.meta.url));
  Deno.exit(await compile(Deno.args, repo));
}
