/**
 * Opening the Deno KV store at start, with a failure an operator can act on: which path, why,
 * and what to do instead. `--check` asks the same question without creating anything.
 * @module
 */

/** The store could not be opened; the message says which path, why, and what to do. */
export class StoreUnavailable extends Error {
  constructor(path: string, reason: string) {
    super(
      `Cannot open the KV store "${path}": ${reason}. Give another path with --kv PATH ` +
        `(or SWITCHYARD_KV), or --kv :memory: to keep nothing across restarts`,
    );
    this.name = "StoreUnavailable";
  }
}

/** Makes the folder of the default store file, as a state directory is made on first use. */
export async function makeStoreFolder(path: string): Promise<void> {
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (folder === "") return;
  try {
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreUnavailable(path, `its folder could not be made (${reasonOf(error)})`);
  }
}

/** Opens the store at `path` (a file, `:memory:`, or a KV Connect URL). */
export async function openStore(path: string): Promise<Deno.Kv> {
  try {
    return await Deno.openKv(path === ":memory:" ? ":memory:" : path);
  } catch (error) {
    throw new StoreUnavailable(path, reasonOf(error));
  }
}

/**
 * Why the store at `path` could not be opened, or undefined when it can: an existing file is
 * opened and closed again; for a file not made yet, its folder must take a new file, or, with
 * `makesFolder` (the default store), the nearest folder that exists must. Nothing is left behind.
 */
export async function storeProblem(
  path: string,
  options: { readonly makesFolder?: boolean } = {},
): Promise<string | undefined> {
  if (path === ":memory:" || /^https?:\/\//.test(path)) return undefined;
  let exists = true;
  try {
    await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      return new StoreUnavailable(path, reasonOf(error)).message;
    }
    exists = false;
  }
  try {
    if (exists) {
      (await Deno.openKv(path)).close();
    } else {
      let folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
      while (options.makesFolder && folder !== "/" && folder !== "." && !await isThere(folder)) {
        folder = folder.slice(0, folder.lastIndexOf("/")) || "/";
      }
      const probe = await Deno.makeTempFile({ dir: folder, prefix: ".switchyard-check-" });
      await Deno.remove(probe);
    }
    return undefined;
  } catch (error) {
    return new StoreUnavailable(path, reasonOf(error)).message;
  }
}

async function isThere(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The reason in an error from the runtime, without its stack. */
function reasonOf(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "its folder does not exist";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").replace(/\.$/, "").toLowerCase();
}
