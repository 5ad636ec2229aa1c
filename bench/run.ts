/**
 * `deno task bench`: how much the gateway adds, measured side by side on this machine. It
 * starts a fake OpenAI backend, then drives with wrk the backend itself, nginx in front of it
 * (when installed), a bare `Deno.serve` + `fetch` proxy, the real gateway, and the transport
 * candidates (a proxy as lean as the bare one, reaching the backend through the gateway's own
 * HTTP/1.1 client, `fetch` or undici; over https too, to a second backend, when openssl can make
 * a certificate), each its own process on its own 127.0.0.1 port, and prints one table and the
 * ratios. `BENCH_ONLY=transports` measures the backend and the transport candidates alone,
 * `BENCH_ONLY=gateway` the backend, the bare proxy and the gateway.
 *
 * `BENCH_ONLY=streams`, `chunk-latency`, `first-byte`, `stream-cpu`, `fixed-rate` or `uploads`
 * runs that one scenario instead, through the backend, nginx, the bare proxy and the gateway one
 * after another: memory and chunk gaps under thousands of long streams, the delay added to each
 * streamed chunk, the time to the first streamed byte, CPU per streamed request (per chunk and
 * fixed), latency at a fixed request rate, and the copies of large uploads held in memory (see
 * docs/benchmarks.md). `BENCH_ONLY=routing` runs the routing simulation instead: strategies
 * compared over simulated engines in virtual time.
 * `BENCH_ONLY=workers` runs the throughput scenarios through the gateway with one worker and
 * with `--workers 2` (`BENCH_WORKERS` to change), interleaved, and their ratios.
 * `BENCH_ONLY=cluster` runs three gateways sharing a store against one global limit (see
 * bench/_cluster.ts).
 *
 * Scenarios: non-streaming chat and whole SSE streams at 50 connections for `BENCH_SECONDS`
 * (default 3) per run, then the time to the first streamed byte at low concurrency. Throughput
 * runs go round the targets `BENCH_ROUNDS` times (default 3), interleaved so that a noisy
 * neighbour slows every target alike, and each target's median run is reported. Last, pairs of
 * targets are loaded side by side (the gateway with and without metrics and request logs, and
 * the bare proxy with the gateway, and the own HTTP/1.1 client with each library), which holds
 * their ratio of CPU per request steady. `BENCH_BASELINE=DIR` adds the gateway of another
 * checkout (an earlier commit, in a `git worktree`), loaded side by side with this one.
 * @module
 */
import { checkTarget } from "./_check.ts";
import { findNginx, nginxConfig } from "./_nginx.ts";
import { benchWorkspace, type Child, freePort, spawn, waitForPort } from "./_process.ts";
import { raiseOpenFiles } from "./_open_files.ts";
import { cpuModel, processTreeUsage } from "./_proc.ts";
import { pairRatioTable, ratioTable, resultTable, type Row } from "./_report.ts";
import { type PairResult, sideBySide, sideBySideTable } from "./_side_by_side.ts";
import { envInteger } from "./_env.ts";
import { MEMORY_TRIM_VARIABLE, V8_FLAGS } from "../src/runtime.ts";
import { isOneByOne, ONE_BY_ONE } from "./_one_by_one.ts";
import { hasOpenssl, type SelfSigned, selfSignedCert } from "./_tls.ts";
import type { TransportName } from "./_transports.ts";
import { measureTtfb, TTFB } from "./_ttfb.ts";
import { runWrk, wrkVersion } from "./_wrk.ts";
import { routingBench } from "./_routing.ts";
import { clusterBench } from "./_cluster.ts";

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
  http1: "own http1",
  fetch: "fetch",
  undici: "undici",
  fetchHttps: "fetch https",
  undiciHttps: "undici https",
  fetchH2: "fetch https h2",
  http1Https: "own http1 https",
  baseline: "gateway, baseline",
  workers: "gateway, N workers",
};

/** A transport candidate: which client, to the plain or the https backend, HTTP/2 allowed. */
interface TransportRow {
  readonly name: string;
  readonly transport: TransportName;
  readonly https: boolean;
  /** Let the client speak HTTP/2 where the backend offers it (over TLS only). */
  readonly h2: boolean;
}

/**
 * The transport candidates. Over https, each offers HTTP/1.1 alone (as the own client would),
 * and `fetch` again with HTTP/2 allowed, which the fake backend, a `Deno.serve`, then chooses.
 * The own client speaks no TLS yet: its https row is one more entry here once it does. undici
 * has no HTTP/2 row: over Deno's `node:http2` it gets HTTP/2, but within a few runs the process
 * aborts on an nghttp2 assertion (`find_stream_on_goaway_func`) as clients leave mid-stream,
 * which would end the whole bench; `transport_proxy.ts --transport undici --h2` still runs it.
 */
const TRANSPORT_ROWS: readonly TransportRow[] = [
  { name: NAMES.http1, transport: "http1", https: false, h2: false },
  { name: NAMES.fetch, transport: "fetch", https: false, h2: false },
  { name: NAMES.undici, transport: "undici", https: false, h2: false },
  { name: NAMES.http1Https, transport: "http1", https: true, h2: false },
  { name: NAMES.fetchHttps, transport: "fetch", https: true, h2: false },
  { name: NAMES.undiciHttps, transport: "undici", https: true, h2: false },
  { name: NAMES.fetchH2, transport: "fetch", https: true, h2: true },
];

/** Pairs loaded side by side, [base, compared]: each compared one's cost in CPU per request. */
const PAIRS = [
  [NAMES.baseline, NAMES.gateway],
  [NAMES.unobserved, NAMES.gateway],
  [NAMES.bare, NAMES.gateway],
  [NAMES.http1, NAMES.fetch],
  [NAMES.http1, NAMES.undici],
  [NAMES.fetchHttps, NAMES.undiciHttps],
  [NAMES.http1Https, NAMES.fetchHttps],
  [NAMES.http1Https, NAMES.undiciHttps],
] as const;

/** Ratios of the transport candidates, [compared, base]. */
const TRANSPORT_RATIOS = [
  [NAMES.fetch, NAMES.http1],
  [NAMES.undici, NAMES.http1],
  [NAMES.fetchHttps, NAMES.http1Https],
  [NAMES.undiciHttps, NAMES.http1Https],
  [NAMES.http1Https, NAMES.http1],
  [NAMES.fetchHttps, NAMES.fetch],
  [NAMES.undiciHttps, NAMES.undici],
  [NAMES.undiciHttps, NAMES.fetchHttps],
  [NAMES.fetchH2, NAMES.fetchHttps],
] as const;

/** One thing to measure: where to send requests and which process does the work. */
interface Target {
  readonly name: string;
  readonly url: string;
  /** The process whose CPU time is counted, with its descendants. */
  readonly child: Child;
  /** The fake backend behind it; for the backend itself, its own child. */
  readonly backend: Child;
}

/** What `BENCH_ONLY` may name: part of the targets, or one of the long-stream scenarios. */
const ONLY = [
  "transports",
  "gateway",
  "streams",
  "chunk-latency",
  "first-byte",
  "stream-cpu",
  "fixed-rate",
  "uploads",
  "routing",
  "workers",
  "cluster",
] as const;

/**
 * What to run, from `BENCH_ONLY`: unset or empty for every target in the throughput and first
 * byte scenarios, `transports` for the backend and the transport candidates alone, `gateway` for
 * the backend, the bare proxy and the gateway; `streams`, `chunk-latency`, `first-byte`,
 * `stream-cpu`, `fixed-rate` or `uploads` for that scenario alone, through the backend, nginx,
 * the bare proxy and the gateway one by one (only `first-byte` is also part of the full run);
 * `routing` for the routing simulation; `workers` for the backend and the gateway with one
 * worker and with several; `cluster` for three gateways sharing a store.
 */
function benchOnly(): "all" | typeof ONLY[number] {
  const text = Deno.env.get("BENCH_ONLY") ?? "";
  if (text === "") return "all";
  const only = ONLY.find((name) => name === text);
  if (only) return only;
  throw new RangeError(
    `BENCH_ONLY must be unset or one of ${ONLY.map((name) => `"${name}"`).join(", ")}, ` +
      `got "${text}"`,
  );
}

/** Starts `deno run <args>` and waits for it to listen on `port`. */
async function startDeno(
  name: string,
  args: readonly string[],
  port: number,
  env?: Record<string, string>,
): Promise<Child> {
  // `deno run` runs the program in the process we spawn, with no launcher in between, so the
  // child's pid is the one whose CPU time counts.
  const child = spawn(name, Deno.execPath(), ["run", ...args], {
    cwd: REPO,
    ...(env === undefined ? {} : { env }),
  });
  await waitForPort(child, port);
  return child;
}

/** The fake backend, serving https with `tls`'s certificate when given. */
async function startBackend(tls?: SelfSigned): Promise<Target> {
  const port = freePort();
  const child = await startDeno(
    tls ? "the https fake backend" : "the fake backend",
    [
      "--allow-net",
      "--allow-read",
      `${BENCH}fake_backend.ts`,
      "--port",
      String(port),
      ...(tls ? ["--cert", tls.certFile, "--key", tls.keyFile] : []),
    ],
    port,
  );
  const scheme = tls ? "https" : "http";
  return {
    name: tls ? `${NAMES.direct} https` : NAMES.direct,
    url: `${scheme}://127.0.0.1:${port}${CHAT_PATH}`,
    child,
    backend: child,
  };
}

/** The transport proxy for `row`, in front of `backend` (plain or https, as `row` says). */
async function startTransportProxy(
  row: TransportRow,
  backend: Target,
  tls: SelfSigned | undefined,
): Promise<Target> {
  const port = freePort();
  const child = await startDeno(
    `the ${row.name} transport proxy`,
    [
      "--allow-net",
      "--allow-read",
      "--allow-env",
      `${BENCH}transport_proxy.ts`,
      "--port",
      String(port),
      "--upstream",
      new URL(backend.url).origin,
      "--transport",
      row.transport,
      ...(tls ? ["--ca", tls.certFile] : []),
      ...(row.h2 ? ["--h2"] : []),
    ],
    port,
  );
  return {
    name: row.name,
    url: `http://127.0.0.1:${port}${CHAT_PATH}`,
    child,
    backend: backend.child,
  };
}

async function startBareProxy(
  backend: Target,
  options: { watch: boolean },
): Promise<Target> {
  const backendPort = Number(new URL(backend.url).port);
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
  return { name, url: `http://127.0.0.1:${port}${CHAT_PATH}`, child, backend: backend.child };
}

/**
 * The gateway with the fake backend as its only chat instance, and its only speech-to-text
 * instance for the uploads; `observed` leaves metrics and
 * a JSON log line per request on (the defaults, its stdout read by the bench as a log shipper
 * would), otherwise both are off. With `workers` above 1 it serves with `--workers`, over a store
 * file of its own, which the workers share.
 */
async function startGateway(
  dir: string,
  backend: Target,
  options: { observed: boolean; baseline?: string; workers?: number },
): Promise<Target> {
  const backendPort = Number(new URL(backend.url).port);
  const port = freePort();
  const workers = options.workers ?? 1;
  const name = workers > 1
    ? NAMES.workers.replace("N", String(workers))
    : options.baseline
    ? NAMES.baseline
    : options.observed
    ? NAMES.gateway
    : NAMES.unobserved;
  const config = `${dir}/${
    workers > 1
      ? "workers"
      : options.baseline
      ? "baseline"
      : options.observed
      ? "gateway"
      : "unobserved"
  }.yaml`;
  const observability = options.observed
    ? "log:\n  format: json\n"
    : "log:\n  requests: false\nmetrics:\n  enabled: false\n";
  await Deno.writeTextFile(
    config,
    `# Generated by bench/run.ts: the fake backend as the only chat and speech-to-text instance.
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
    stt:
      instances:
        - name: bench-model
          base-url: http://127.0.0.1:${backendPort}
          adapter: openai
`,
  );
  const child = await startDeno(
    `the ${name}`,
    [
      "-A",
      `--v8-flags=${options.baseline ? V8_FLAGS : gatewayV8Flags()}`,
      `${options.baseline ?? REPO}/main.ts`,
      "--config",
      config,
      ...(workers > 1 ? ["--workers", String(workers), "--kv", `${dir}/workers.kv`] : []),
      ...(workers > 1 ? [] : ["--kv", ":memory:"]),
    ],
    port,
    // As `deno task start` runs it: V8's flags, and memory given back once the gateway is idle.
    { [MEMORY_TRIM_VARIABLE]: "1" },
  );
  // The first worker listens first; the others follow within a second or two.
  if (workers > 1) await allWorkersListen(child);
  return { name, url: `http://127.0.0.1:${port}${CHAT_PATH}`, child, backend: backend.child };
}

/** Waits for the line saying that every worker listens. */
async function allWorkersListen(child: Child): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!/workers listening on/.test(child.output())) {
    if (performance.now() > deadline) {
      throw new Error(`Not every worker of ${child.name} listens\n${child.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startNginx(
  nginx: string,
  dir: string,
  backend: Target,
  options: { workerConnections?: number } = {},
): Promise<Target> {
  const backendPort = Number(new URL(backend.url).port);
  const port = freePort();
  const prefix = `${dir}/nginx`;
  await Deno.mkdir(prefix, { recursive: true });
  // A root master hands requests to a worker running as `nobody`, which must read this.
  await Deno.chmod(dir, 0o755);
  await Deno.chmod(prefix, 0o755);
  const conf = `${prefix}/nginx.conf`;
  await Deno.writeTextFile(
    conf,
    nginxConfig(prefix, { port, upstreamPort: backendPort, ...options }),
  );
  const child = spawn(
    "nginx",
    nginx,
    ["-c", conf, "-p", prefix, "-e", `${prefix}/error.log`],
    { grace: 5_000 },
  );
  await waitForPort(child, port, { timeout: 10_000 });
  return {
    name: NAMES.nginx,
    url: `http://127.0.0.1:${port}${CHAT_PATH}`,
    child,
    backend: backend.child,
  };
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

/** CPU seconds the target and its backend have used so far. */
async function cpuNow(target: Target): Promise<[number, number]> {
  const [own, behind] = await Promise.all([
    processTreeUsage(target.child.pid),
    processTreeUsage(target.backend.pid),
  ]);
  return [own.cpuSeconds, behind.cpuSeconds];
}

/** CPU per request, in µs, of the target and (unless it is the target) its backend. */
async function cpuPerRequest(
  target: Target,
  since: { cpu: [number, number]; requests: number },
): Promise<{ cpuPerRequestUs: number; backendCpuPerRequestUs: number | undefined }> {
  const [own, behind] = await cpuNow(target);
  const perRequest = (seconds: number) => (seconds / since.requests) * 1e6;
  return {
    cpuPerRequestUs: perRequest(own - since.cpu[0]),
    backendCpuPerRequestUs: target.child === target.backend
      ? undefined
      : perRequest(behind - since.cpu[1]),
  };
}

/** One wrk run of a throughput scenario against one target. */
async function throughputRun(
  target: Target,
  options: { scenario: "chat" | "stream"; seconds: number; threads: number },
): Promise<Row> {
  const load = {
    connections: CONNECTIONS,
    threads: options.threads,
    stream: options.scenario === "stream",
  };
  await runWrk(target.url, { ...load, seconds: WARM_UP_SECONDS });
  const before = await cpuNow(target);
  const result = await runWrk(target.url, { ...load, seconds: options.seconds });
  if (result.errors > 0) {
    throw new Error(
      `${target.name} failed ${result.errors} of ${result.requests} ${options.scenario} ` +
        `requests (${result.errorDetail}): its numbers would be meaningless. The end of its ` +
        `output:\n${target.child.output().slice(-2_000)}`,
    );
  }
  return {
    target: target.name,
    scenario: options.scenario,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    ...await cpuPerRequest(target, { cpu: before, requests: result.requests }),
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
  options: { seconds: number; threads: number; rounds: number },
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const scenario of ["chat", "stream"] as const) {
    const runs = new Map<Target, Row[]>(targets.map((target) => [target, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const target of targets) {
        const row = await throughputRun(target, { ...options, scenario });
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
async function measureFirstByte(target: Target): Promise<Row> {
  await measureTtfb(target.url, { ...TTFB, requests: TTFB.warmUp });
  const before = await cpuNow(target);
  const ttfb = await measureTtfb(target.url, TTFB);
  return {
    target: target.name,
    scenario: "ttfb",
    rps: ttfb.rps,
    p50Ms: ttfb.firstByteP50Ms,
    p99Ms: ttfb.firstByteP99Ms,
    ...await cpuPerRequest(target, { cpu: before, requests: ttfb.requests }),
    note: `last byte p50 ${ttfb.lastByteP50Ms.toFixed(1)} ms` +
      (ttfb.firstByteP50Ms > ttfb.lastByteP50Ms / 2 ? " (buffered?)" : ""),
  };
}

/**
 * `BENCH_GATEWAY_V8_FLAGS`: V8 flags for this checkout's gateway in place of `deno task start`'s,
 * to weigh other ones against the baseline's, which keeps those. None given is `V8_FLAGS`.
 */
function gatewayV8Flags(): string {
  const flags = Deno.env.get("BENCH_GATEWAY_V8_FLAGS");
  return flags === undefined || flags === "" ? V8_FLAGS : flags;
}

/** `BENCH_BASELINE`: another checkout of the gateway to compare with, if it names one. */
async function baselineCheckout(): Promise<string | undefined> {
  const dir = Deno.env.get("BENCH_BASELINE");
  if (dir === undefined || dir === "") return undefined;
  try {
    await Deno.stat(`${dir}/main.ts`);
  } catch {
    throw new RangeError(`BENCH_BASELINE must be a checkout of the gateway, got "${dir}"`);
  }
  return dir;
}

/** The open-files limit every process of a one-by-one run gets, for `connections` at once. */
function openFilesFor(connections: number): number {
  // A proxy holds two sockets per stream, and the backend keeps idle ones from every proxy.
  return Math.max(65_536, 4 * connections + 1_024);
}

/**
 * A scenario that no full run includes, through the backend alone, nginx (when installed), the
 * bare proxy and the gateway, one target after another.
 */
async function oneByOne(name: keyof typeof ONE_BY_ONE): Promise<number> {
  const scenario = ONE_BY_ONE[name]();
  const openFiles = openFilesFor(scenario.connections);
  const nginx = await findNginx();
  console.log(
    `Switchyard bench, ${name}: ${navigator.hardwareConcurrency} CPUs (${await cpuModel()}), ` +
      `deno ${Deno.version.deno}` + (nginx ? `, ${await versionOf(nginx, ["-v"])}` : ""),
  );
  console.log(scenario.description);
  if (!nginx) {
    console.log("nginx is not installed: skipping the nginx row (apt-get install nginx to add it)");
  }
  const clientFiles = await raiseOpenFiles([Deno.pid], openFiles);
  if (clientFiles === undefined) {
    console.log("prlimit is not installed: open-files limits are left as they are");
  } else if (clientFiles < scenario.connections + 64) {
    console.log(`The client's open-files limit, ${clientFiles}, is too low: expect errors`);
  }

  await using workspace = await benchWorkspace();
  const { dir } = workspace;
  const backend = await startBackend();
  const targets: Target[] = [backend];
  if (nginx) {
    // Two per stream, and room to spare: with fewer than a sixteenth of its connections free,
    // nginx closes waiting client connections ("worker_connections are not enough").
    const workerConnections = Math.max(4096, Math.ceil(2.25 * scenario.connections) + 256);
    targets.push(await startNginx(nginx, dir, backend, { workerConnections }));
  }
  targets.push(await startBareProxy(backend, { watch: false }));
  const watched = envInteger("BENCH_WATCHED", 0, [0, 1]) === 1;
  if (watched) targets.push(await startBareProxy(backend, { watch: true }));
  targets.push(await startGateway(dir, backend, { observed: true }));
  const baseline = await baselineCheckout();
  if (baseline) targets.push(await startGateway(dir, backend, { observed: true, baseline }));
  const limits: string[] = [`client ${clientFiles ?? "unchanged"}`];
  for (const target of targets) {
    // nginx's workers, which may run as another user, raise theirs: `worker_rlimit_nofile`.
    const limit = await raiseOpenFiles([target.child.pid], openFiles);
    limits.push(`${target.name} ${limit ?? "unchanged"}`);
    if (limit !== undefined && limit < 2 * scenario.connections + 64) {
      console.log(`${target.name}'s open-files limit, ${limit}, is too low: expect errors`);
    }
    await checkTarget(target.name, target.url);
  }
  console.log(`Open-files limits: ${limits.join(", ")}`);
  await scenario.run(
    targets.map((target) => ({
      name: target.name,
      url: target.url,
      pid: target.child.pid,
      stop: target.child === backend.child ? undefined : () => target.child.stop(),
    })),
    {
      direct: NAMES.direct,
      gateway: NAMES.gateway,
      bases: [
        NAMES.bare,
        ...(watched ? [NAMES.watched] : []),
        NAMES.nginx,
        ...(baseline ? [NAMES.baseline] : []),
      ],
    },
  );
  return 0;
}

async function main(): Promise<number> {
  const seconds = envInteger("BENCH_SECONDS", 3, [1, 600]);
  const rounds = envInteger("BENCH_ROUNDS", 3, [1, 20]);
  const windows = envInteger("BENCH_WINDOWS", 5, [1, 50]);
  const only = benchOnly();
  if (isOneByOne(only)) return await oneByOne(only);
  if (only === "routing") return await routingBench();
  if (only === "workers") return await workersBench({ seconds, rounds });
  if (only === "cluster") {
    await using workspace = await benchWorkspace();
    return await clusterBench(workspace.dir);
  }
  const baseline = await baselineCheckout();
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
  const nginx = only === "all" ? await findNginx() : undefined;
  const openssl = await hasOpenssl();
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
  if (only === "transports") {
    console.log("BENCH_ONLY=transports: the backend and the transport candidates alone");
  } else if (only === "gateway") {
    console.log("BENCH_ONLY=gateway: the backend, the bare proxy and the gateway alone");
  } else if (!nginx) {
    console.log("nginx is not installed: skipping the nginx row (apt-get install nginx to add it)");
  }
  if (!openssl) {
    console.log(
      "openssl is not installed: skipping the https rows (apt-get install openssl to add them)",
    );
  }

  await using workspace = await benchWorkspace();
  const { dir } = workspace;
  const backend = await startBackend();
  const targets: Target[] = [backend];
  if (only !== "transports") {
    if (nginx) targets.push(await startNginx(nginx, dir, backend));
    targets.push(await startBareProxy(backend, { watch: false }));
    if (only === "all") targets.push(await startBareProxy(backend, { watch: true }));
    targets.push(await startGateway(dir, backend, { observed: true }));
    targets.push(await startGateway(dir, backend, { observed: false }));
    if (baseline) {
      targets.push(await startGateway(dir, backend, { observed: true, baseline }));
    }
  }
  const tls = openssl && only !== "gateway" ? await selfSignedCert(dir) : undefined;
  const httpsBackend = tls ? await startBackend(tls) : undefined;
  for (const row of only === "gateway" ? [] : TRANSPORT_ROWS) {
    if (!row.https) targets.push(await startTransportProxy(row, backend, undefined));
    else if (httpsBackend) targets.push(await startTransportProxy(row, httpsBackend, tls));
  }
  for (const target of targets) await checkTarget(target.name, target.url);

  const rows = await measureThroughput(targets, { seconds, threads, rounds });
  for (const target of targets) {
    console.log(`  first byte: ${target.name}`);
    rows.push(await measureFirstByte(target));
  }
  const peakRss = await peakRssOf(targets);

  console.log("");
  console.log(resultTable(rows));
  console.log(
    "\np50/p99: whole response (chat, stream) or first body chunk (first byte). CPU/req: " +
      "user + system time of the target's processes (for direct, the backend) per request;\n" +
      "backend CPU/req: the fake backend's, behind that target (the https one for https rows).",
  );
  console.log(`Peak RSS: ${peakRss}`);
  console.log("");
  console.log(ratioTable(rows, {
    direct: NAMES.direct,
    bare: NAMES.bare,
    watched: NAMES.watched,
    gateway: NAMES.gateway,
    unobserved: NAMES.unobserved,
    proxies: targets.slice(1).map((target) => target.name),
  }));
  console.log("");
  console.log(pairRatioTable(rows, TRANSPORT_RATIOS));

  console.log(
    `\nSide by side: two targets loaded at once, ${PAIRED_CONNECTIONS} connections each, ` +
      `${windows} windows of ${seconds} s (BENCH_WINDOWS to change); CPU per request`,
  );
  const named = (name: string) => {
    const target = targets.find((candidate) => candidate.name === name);
    if (!target) throw new Error(`No target named ${name}`);
    return { name, url: target.url, pid: target.child.pid };
  };
  const running = new Set(targets.map((target) => target.name));
  const pairs = PAIRS.filter((pair) => pair.every((name) => running.has(name)));
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
}

/**
 * `BENCH_ONLY=workers`: chat and streams through the gateway with one worker and with
 * `BENCH_WORKERS` (default 2), interleaved round by round, with their ratios; wrk, the fake
 * backend and the gateway share the machine's CPUs, as they do in every scenario.
 */
async function workersBench(options: { seconds: number; rounds: number }): Promise<number> {
  const workers = envInteger("BENCH_WORKERS", 2, [2, 64]);
  const wrk = await wrkVersion();
  if (wrk === undefined) {
    console.error("Cannot run the bench: wrk is not installed (sudo apt-get install wrk)");
    return 1;
  }
  const cpus = navigator.hardwareConcurrency;
  const threads = Math.max(1, Math.min(4, Math.floor(cpus / 2)));
  console.log(
    `Switchyard bench, workers: ${cpus} CPUs (${await cpuModel()}), deno ${Deno.version.deno}, ` +
      `${wrk}; wrk ${threads} thread(s), ${CONNECTIONS} connections, ${options.seconds} s per ` +
      `run, median of ${options.rounds} interleaved rounds; 1 worker against ${workers}`,
  );
  await using workspace = await benchWorkspace();
  const backend = await startBackend();
  const one = await startGateway(workspace.dir, backend, { observed: true });
  const several = await startGateway(workspace.dir, backend, { observed: true, workers });
  const targets = [backend, one, several];
  for (const target of targets) await checkTarget(target.name, target.url);
  const rows = await measureThroughput(targets, { ...options, threads });
  const peakRss = await peakRssOf(targets);
  console.log("");
  console.log(resultTable(rows));
  console.log(
    "\nCPU/req: user + system time of the target's process (every worker's thread) per request.",
  );
  console.log(`Peak RSS: ${peakRss}`);
  console.log("");
  console.log(pairRatioTable(rows, [[several.name, one.name]]));
  return 0;
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

/** Each target's peak resident set so far, its processes together: `name N MiB, …`. */
async function peakRssOf(targets: readonly Target[]): Promise<string> {
  const each = await Promise.all(targets.map(async (target) => {
    const bytes = (await processTreeUsage(target.child.pid)).peakRssBytes;
    return `${target.name} ${Math.round(bytes / 2 ** 20)} MiB`;
  }));
  return each.join(", ");
}
