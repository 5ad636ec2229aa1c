/**
 * What a process and its descendants have used, read from Linux's `/proc`: CPU time (user +
 * system, all threads), peak and current resident memory. Descendants count because nginx does its work
 * in a worker under the master we start.
 * @module
 */

/** One reading of a process tree. */
export interface Usage {
  /** CPU seconds, user + system, of the process and its descendants. */
  readonly cpuSeconds: number;
  /** Sum of each process's peak resident set size, in bytes. */
  readonly peakRssBytes: number;
}

interface Stat {
  readonly ppid: number;
  readonly ticks: number;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second for `/proc/<pid>/stat` times (`getconf CLK_TCK`, almost always 100). */
async function clockTicks(): Promise<number> {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  try {
    const { stdout } = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    const value = Number(new TextDecoder().decode(stdout).trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/**
 * Reads files under `/proc` through `sh` and `cat`: Deno grants `/proc` reads only with
 * `--allow-all`, which `deno task bench` does not have, while `--allow-run` is enough for this.
 * Files of processes that exit meanwhile are skipped.
 */
async function readProc(glob: string): Promise<string> {
  const { stdout } = await new Deno.Command("sh", {
    args: ["-c", `cat ${glob} 2>/dev/null; true`],
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout);
}

/** Every process's parent and CPU ticks, from one read of all `/proc/<pid>/stat` files. */
async function readStats(): Promise<Map<number, Stat>> {
  const stats = new Map<number, Stat>();
  for (const line of (await readProc("/proc/[0-9]*/stat")).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    // The command name is in parentheses and may hold spaces; the fields after it are plain:
    // state, ppid, …, and utime and stime, fields 14 and 15 of the whole line.
    const fields = line.slice(close + 2).split(" ");
    stats.set(Number(line.slice(0, line.indexOf(" "))), {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
    });
  }
  return stats;
}

/** Sum of the peak resident set sizes of `pids`, in bytes. */
async function peakRss(pids: Iterable<number>): Promise<number> {
  const text = await readProc([...pids].map((pid) => `/proc/${pid}/status`).join(" "));
  let kib = 0;
  for (const match of text.matchAll(/^VmHWM:\s+(\d+)\s+kB$/gm)) kib += Number(match[1]);
  return kib * 1024;
}

/** The CPU model name, from `/proc/cpuinfo`. */
export async function cpuModel(): Promise<string> {
  const info = await readProc("/proc/cpuinfo");
  return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? "unknown CPU";
}

/** Sum of the current resident set sizes of `pids`, in bytes; 0 for processes gone. */
export async function residentBytes(pids: Iterable<number>): Promise<number> {
  const text = await readProc([...pids].map((pid) => `/proc/${pid}/status`).join(" "));
  let kib = 0;
  for (const match of text.matchAll(/^VmRSS:\s+(\d+)\s+kB$/gm)) kib += Number(match[1]);
  return kib * 1024;
}

/** `pid` and every process below it, such as nginx's workers under its master. */
export async function processTree(pid: number): Promise<Set<number>> {
  return treeOf(pid, await readStats());
}

function treeOf(pid: number, stats: ReadonlyMap<number, Stat>): Set<number> {
  const tree = new Set<number>([pid]);
  // Parents may have larger pids than their children, so repeat until nothing is added.
  for (let grew = true; grew;) {
    grew = false;
    for (const [candidate, stat] of stats) {
      if (!tree.has(candidate) && tree.has(stat.ppid)) {
        tree.add(candidate);
        grew = true;
      }
    }
  }
  return tree;
}

/** The usage so far of `pid` and every process below it. */
export async function processTreeUsage(pid: number): Promise<Usage> {
  const stats = await readStats();
  const tree = treeOf(pid, stats);
  let ticks = 0;
  for (const member of tree) ticks += stats.get(member)?.ticks ?? 0;
  return { cpuSeconds: ticks / await clockTicks(), peakRssBytes: await peakRss(tree) };
}
