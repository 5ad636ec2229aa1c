/**
 * `deno task bench`: how much the gateway adds, measured side by side on this machine. It
 * starts a fake OpenAI backend, then drives with wrk the backend itself, nginx in front of it
 * (when installed), a bare `Deno.serve` + `fetch` proxy and the real gateway, each its own
 * process on its own 127.0.0.1 port, and prints one table and the ratios.
 *
 * Scenarios: non-streaming chat and whole SSE streams at 50 connections for `BENCH_SECONDS`
 * (default 3) per run, then the time to the first streamed byte at low concurrency. Throughput
 * runs go round the targets `BENCH_ROUNDS` times (default 3), interleaved so that a noisy
 * neighbour slows every target alike, and each target's median run is reported. Last, pairs of
 * targets are loaded side by side (the gateway with and without metrics and request logs, and
 * the bare proxy with the gateway), which holds their ratio of CPU per request steady.
 * @module
 */
import { checkTarget } from "./_check.ts";
import { findNginx, nginxConfig } from "./_nginx.ts";
import { type Child, freePort, spawn, stopAll, stopAllOnSignals, waitForPort } from "./_process.ts";
import { cpuModel, processTreeUsage } from "./_proc.ts";
import { ratioTable, resultTable, type Row } from "./_report.ts";
import { type PairResult, sideBySide, sideBySideTable } from "./_side_by_side.ts";
import { measureTtfb } from "./_ttfb.ts";
import { runWrk, wrkVersion } from "./_wrk.ts";

/** Connections wrk keeps open in the throughput scenarios. */
const CONNECTIONS = 50;
/**
 * Connections for each of two targets loaded side by side: few enough that the machine is not
 * saturated. A target starved of CPU reads several chunks per wake-up and looks cheaper per
 * request than it is; at 25 each, two copies of the same gateway differed by 7% on streams.
 */
const PAIRED_CONNECTIONS = 5;
/** Unmeasured wrk run before each measured one, so every target is JIT-warm. */
const WARM_UP_SECONDS = 1;
/** The first-byte scenario: a few clients, a few hundred requests, chunks 2 ms apart. */
const TTFB = { requests: 300, concurrency: 4, chunkDelayMs: 2, warmUp: 30 } as const;

const CHAT_PATH = "/v1/chat/completions";
const REPO = new URL("../", import.meta.url).pathname;
const BENCH = new URL("./", import.meta.url).pathname;

const NAMES = {
  direct: "direct",
  nginx: "nginx",
  bare: "bare deno",
  watched: "bare, watched",
  gateway: "gateway",
  unobserved: "gateway, unobserved",
};

/** One thing to measure: where to send requests and which process does the work. */
interface Target {
  readonly name: string;
  readonly url: string;
  /** The process whose CPU time is counted, with its descendants. */
  readonly child: Child;
}

/** A whole number from the environment variable `name`, within `[min, max]`. */
function envInteger(name: string, fallback: number, [min, max]: [number, number]): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** Starts `deno run <args>` and waits for it to listen on `port`. */
async function startDeno(name: string, args: readonly string[], port: number): Promise<Child> {
  // `deno run` runs the program in the process we spawn, with no launcher in between, so the
  // child's pid is the one whose CPU time counts.
  const child = spawn(name, Deno.execPath(), ["run", ...args], { cwd: REPO });
  await waitForPort(child, port);
  return child;
}

async function startBackend(): Promise<Target> {
  const port = freePort();
  const child = await startDeno(
    "the fake backend",
    ["--allow-net", `${BENCH}fake_backend.ts`, "--port", String(port)],
    port,
  );
  return { name: NAMES.direct, url: `http://127.0.0.1:${port}${CHAT_PATH}`, child };
}

async function startBareProxy(
  backendPort: number,
  options: { watch: boolean },
): Promise<Target> {
  const port = freePort();
  const name = options.watch ? NAMES.watched : NAMES.bare;
  const child = await startDeno(
    `the ${name} proxy`,
    [
      "--allow-net",
      `${BENCH}bare_proxy.ts`,
      "--port",
      String(port),
      "--upstream",
      `http://127.0.0.1:${backendPort}`,
      ...(options.watch ? ["--watch"] : []),
    ],
    port,
  );
  return { name, url: `http://127.0.0.1:${port}${CHAT_PATH}`, child };
}

/**
 * The gateway with the fake backend as its only chat instance; `observed` leaves metrics and
 * a JSON log line per request on (the defaults, its stdout read by the bench as a log shipper
 * would), otherwise both are off.
 */
async function startGateway(
  dir: string,
  backendPort: number,
  options: { observed: boolean },
): Promise<Target> {
  const port = freePort();
  const name = options.observed ? NAMES.gateway : NAMES.unobserved;
  const config = `${dir}/${options.observed ? "gateway" : "unobserved"}.yaml`;
  const observability = options.observed
    ? "log:\n  format: json\n"
    : "log:\n  requests: false\nmetrics:\n  enabled: false\n";
  await Deno.writeTextFile(
    config,
    `# Generated by bench/run.ts: the fake backend as the only chat instance.
server:
  host: 127.0.0.1
  port: ${port}
${observability}model:
  services:
    chat:
      instances:
        - name: bench-model
          base-url: http://127.0.0.1:${backendPort}
          adapter: openai
`,
  );
  const child = await startDeno(
    `the ${name}`,
    ["-A", `${REPO}main.ts`, "--config", config, "--kv", ":memory:"],
    port,
  );
  return { name, url: `http://127.0.0.1:${port}${CHAT_PATH}`, child };
}

async function startNginx(
  nginx: string,
  dir: string,
  backendPort: number,
): Promise<Target> {
  const port = freePort();
  const prefix = `${dir}/nginx`;
  await Deno.mkdir(prefix, { recursive: true });
  // A root master hands requests to a worker running as `nobody`, which must read this.
  await Deno.chmod(dir, 0o755);
  await Deno.chmod(prefix, 0o755);
  const conf = `${prefix}/nginx.conf`;
  await Deno.writeTextFile(conf, nginxConfig(prefix, { port, upstreamPort: backendPort }));
  const child = spawn(
    "nginx",
    nginx,
    ["-c", conf, "-p", prefix, "-e", `${prefix}/error.log`],
    { grace: 5_000 },
  );
  await waitForPort(child, port, { timeout: 10_000 });
  return { name: NAMES.nginx, url: `http://127.0.0.1:${port}${CHAT_PATH}`, child };
}

async function versionOf(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await new Deno.Command(command, { args: [...args] }).output();
    const decoder = new TextDecoder();
    return (decoder.decode(stdout) + decoder.decode(stderr)).trim().split("\n", 1)[0] ?? "";
  } catch {
    return "unknown";
  }
}

/** CPU seconds the target and the backend have used so far. */
async function cpuNow(target: Target, backend: Child): Promise<[number, number]> {
  const [own, behind] = await Promise.all([
    processTreeUsage(target.child.pid),
    processTreeUsage(backend.pid),
  ]);
  return [own.cpuSeconds, behind.cpuSeconds];
}

/** CPU per request, in µs, of the target and (unless it is the target) the backend. */
async function cpuPerRequest(
  target: Target,
  backend: Child,
  since: { cpu: [number, number]; requests: number },
): Promise<{ cpuPerRequestUs: number; backendCpuPerRequestUs: number | undefined }> {
  const [own, behind] = await cpuNow(target, backend);
  const perRequest = (seconds: number) => (seconds / since.requests) * 1e6;
  return {
    cpuPerRequestUs: perRequest(own - since.cpu[0]),
    backendCpuPerRequestUs: target.child === backend
      ? undefined
      : perRequest(behind - since.cpu[1]),
  };
}

/** One wrk run of a throughput scenario against one target. */
async function throughputRun(
  target: Target,
  backend: Child,
  options: { scenario: "chat" | "stream"; seconds: number; threads: number },
): Promise<Row> {
  const load = {
    connections: CONNECTIONS,
    threads: options.threads,
    stream: options.scenario === "stream",
  };
  await runWrk(target.url, { ...load, seconds: WARM_UP_SECONDS });
  const before = await cpuNow(target, backend);
  const result = await runWrk(target.url, { ...load, seconds: options.seconds });
  if (result.errors > 0) {
    throw new Error(
      `${target.name} failed ${result.errors} of ${result.requests} ${options.scenario} ` +
        `requests (${result.errorDetail}): its numbers would be meaningless`,
    );
  }
  return {
    target: target.name,
    scenario: options.scenario,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    ...await cpuPerRequest(target, backend, { cpu: before, requests: result.requests }),
  };
}

/** The run with the median throughput. */
function median(runs: readonly Row[]): Row {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!middle) throw new RangeError("No runs to take the median of");
  return middle;
}

/**
 * Every throughput scenario, each target in turn within a round, `rounds` times; one row per
 * target and scenario, from its median run.
 */
async function measureThroughput(
  targets: readonly Target[],
  backend: Child,
  options: { seconds: number; threads: number; rounds: number },
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const scenario of ["chat", "stream"] as const) {
    const runs = new Map<Target, Row[]>(targets.map((target) => [target, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const target of targets) {
        const row = await throughputRun(target, backend, { ...options, scenario });
        runs.get(target)?.push(row);
        console.log(
          `  round ${round}/${options.rounds} ${scenario}: ${target.name} ` +
            `${Math.round(row.rps)} req/s, ${Math.round(row.cpuPerRequestUs)} µs CPU/req`,
        );
      }
    }
    for (const target of targets) rows.push(median(runs.get(target) ?? []));
  }
  return rows;
}

/** Time to the first streamed byte through one target. */
async function measureFirstByte(target: Target, backend: Child): Promise<Row> {
  await measureTtfb(target.url, { ...TTFB, requests: TTFB.warmUp });
  const before = await cpuNow(target, backend);
  const ttfb = await measureTtfb(target.url, TTFB);
  return {
    target: target.name,
    scenario: "ttfb",
    rps: ttfb.rps,
    p50Ms: ttfb.firstByteP50Ms,
    p99Ms: ttfb.firstByteP99Ms,
    ...await cpuPerRequest(target, backend, { cpu: before, requests: ttfb.requests }),
    note: `last byte p50 ${ttfb.lastByteP50Ms.toFixed(1)} ms` +
      (ttfb.firstByteP50Ms > ttfb.lastByteP50Ms / 2 ? " (buffered?)" : ""),
  };
}

async function main(): Promise<number> {
  const seconds = envInteger("BENCH_SECONDS", 3, [1, 600]);
  const rounds = envInteger("BENCH_ROUNDS", 3, [1, 20]);
  const windows = envInteger("BENCH_WINDOWS", 5, [1, 50]);
  const wrk = await wrkVersion();
  if (wrk === undefined) {
    console.error(
      "Cannot run the bench: wrk is not installed. It drives the load; install it with\n" +
        "  sudo apt-get install wrk        (Debian/Ubuntu)\n" +
        "  brew install wrk                (macOS)\n" +
        "and run `deno task bench` again. No numbers are made up without it.",
    );
    return 1;
  }
  const nginx = await findNginx();
  const cpus = navigator.hardwareConcurrency;
  // wrk shares the machine with the target and the backend: leave them the other cores.
  const threads = Math.max(1, Math.min(4, Math.floor(cpus / 2)));

  console.log(
    `Switchyard bench: ${cpus} CPUs (${await cpuModel()}), deno ${Deno.version.deno}, ${wrk}` +
      (nginx ? `, ${await versionOf(nginx, ["-v"])}` : ""),
  );
  console.log(
    `wrk: ${threads} thread(s), ${CONNECTIONS} connections, ${seconds} s per run after a ` +
      `${WARM_UP_SECONDS} s warm-up, median of ${rounds} interleaved rounds (BENCH_SECONDS, ` +
      `BENCH_ROUNDS to change); first byte: ${TTFB.requests} ` +
      `streams, ${TTFB.concurrency} at a time, chunks ${TTFB.chunkDelayMs} ms apart`,
  );
  console.log(
    "wrk, the fake backend and the target share this machine's CPUs; compare rows, not machines.",
  );
  if (!nginx) {
    console.log("nginx is not installed: skipping the nginx row (apt-get install nginx to add it)");
  }

  const dir = await Deno.makeTempDir({ prefix: "switchyard-bench-" });
  const removeDir = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const removeListeners = stopAllOnSignals(removeDir);
  try {
    const backend = await startBackend();
    const backendPort = Number(new URL(backend.url).port);
    const targets: Target[] = [backend];
    if (nginx) targets.push(await startNginx(nginx, dir, backendPort));
    targets.push(await startBareProxy(backendPort, { watch: false }));
    targets.push(await startBareProxy(backendPort, { watch: true }));
    targets.push(await startGateway(dir, backendPort, { observed: true }));
    targets.push(await startGateway(dir, backendPort, { observed: false }));
    for (const target of targets) await checkTarget(target.name, target.url);

    const rows = await measureThroughput(targets, backend.child, { seconds, threads, rounds });
    for (const target of targets) {
      console.log(`  first byte: ${target.name}`);
      rows.push(await measureFirstByte(target, backend.child));
    }
    const peakRss = await Promise.all(
      targets.map(async (target) =>
        `${target.name} ${
          Math.round((await processTreeUsage(target.child.pid)).peakRssBytes / 2 ** 20)
        } MiB`
      ),
    );

    console.log("");
    console.log(resultTable(rows));
    console.log(
      "\np50/p99: whole response (chat, stream) or first body chunk (first byte). CPU/req: " +
        "user + system time of the target's processes (for direct, the backend) per request;\n" +
        "backend CPU/req: the fake backend's, behind that target.",
    );
    console.log(`Peak RSS: ${peakRss.join(", ")}`);
    console.log("");
    console.log(ratioTable(rows, {
      direct: NAMES.direct,
      bare: NAMES.bare,
      watched: NAMES.watched,
      gateway: NAMES.gateway,
      unobserved: NAMES.unobserved,
      proxies: targets.slice(1).map((target) => target.name),
    }));

    console.log(
      `\nSide by side: two targets loaded at once, ${PAIRED_CONNECTIONS} connections each, ` +
        `${windows} windows of ${seconds} s (BENCH_WINDOWS to change); CPU per request`,
    );
    const named = (name: string) => {
      const target = targets.find((candidate) => candidate.name === name);
      if (!target) throw new Error(`No target named ${name}`);
      return { name, url: target.url, pid: target.child.pid };
    };
    const pairs = [[NAMES.unobserved, NAMES.gateway], [NAMES.bare, NAMES.gateway]] as const;
    const paired: PairResult[] = [];
    for (const scenario of ["chat", "stream"] as const) {
      for (const [base, compared] of pairs) {
        const result = await sideBySide(named(base), named(compared), {
          scenario,
          windows,
          seconds,
          connections: PAIRED_CONNECTIONS,
          warmUpSeconds: WARM_UP_SECONDS,
        });
        console.log(`  ${scenario}: ${compared} / ${base} ${result.ratio.toFixed(3)}x`);
        paired.push(result);
      }
    }
    console.log("");
    console.log(sideBySideTable(paired));
    return 0;
  } finally {
    await stopAll();
    removeListeners();
    await removeDir();
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    code = 1;
  }
  Deno.exit(code);
}
