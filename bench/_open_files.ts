/**
 * Raises the open-files limit (RLIMIT_NOFILE) of running processes with util-linux's `prlimit`:
 * Deno has no `setrlimit`, and thousands of streams need a socket each in the client, two in a
 * proxy, one in the backend. With `CAP_SYS_RESOURCE` the hard limit goes up too; without it,
 * the soft limit goes up to the hard one.
 * @module
 */

/** The soft and hard open-files limits of `pid`, or undefined when `prlimit` cannot tell. */
async function openFilesLimit(pid: number): Promise<[number, number] | undefined> {
  try {
    const { success, stdout } = await new Deno.Command("prlimit", {
      args: ["--pid", String(pid), "--nofile", "--noheadings", "--raw", "--output", "SOFT,HARD"],
      stderr: "null",
    }).output();
    if (!success) return undefined;
    const [soft, hard] = new TextDecoder().decode(stdout).trim().split(/\s+/).map(limitValue);
    return soft === undefined || hard === undefined ? undefined : [soft, hard];
  } catch {
    return undefined;
  }
}

function limitValue(text: string): number {
  return text === "unlimited" ? Infinity : Number(text);
}

async function setOpenFiles(pid: number, soft: number, hard: number): Promise<boolean> {
  const { success } = await new Deno.Command("prlimit", {
    args: ["--pid", String(pid), `--nofile=${soft}:${hard}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return success;
}

/**
 * Raises the open-files limit of each of `pids` to `wanted`, or as near as the hard limit lets
 * this user; returns the lowest limit they ended with (undefined without `prlimit`).
 */
export async function raiseOpenFiles(
  pids: Iterable<number>,
  wanted: number,
): Promise<number | undefined> {
  let lowest: number | undefined;
  for (const pid of pids) {
    const before = await openFilesLimit(pid);
    if (before === undefined) return undefined;
    const [soft, hard] = before;
    // Raising the hard limit needs CAP_SYS_RESOURCE; else the soft one goes up to it.
    if (soft < wanted && !await setOpenFiles(pid, wanted, Math.max(wanted, hard)) && hard > soft) {
      await setOpenFiles(pid, Math.min(wanted, hard), hard);
    }
    const after = (await openFilesLimit(pid))?.[0];
    if (after === undefined) return undefined;
    lowest = Math.min(lowest ?? Infinity, after);
  }
  return lowest;
}
