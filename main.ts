/**
 * Starts Switchyard: parse flags → load config → open KV → build the gateway → serve → shut
 * down cleanly. The only module with side effects at start.
 *
 * With `--workers N` above 1 the process is a primary that checks what every worker needs
 * (config, store, secrets, port), then runs this module again in N Web Workers: each builds its
 * gateway and serves the port with `reusePort`, while the primary writes their log lines, passes
 * signals and questions on, and starts again a worker that died.
 * @module
 */
import defaultConfigText from "./config/default.yaml" with { type: "text" };
import manifest from "./deno.json" with { type: "json" };
import { createGateway, type Gateway } from "./src/app.ts";
import { HELP, parseCommandLine } from "./src/cli.ts";
import { ConfigError, type ConfigOverride, formatProblem, parseConfig } from "./src/config/load.ts";
import { deepEqual } from "./src/lib/json.ts";
import { LiveConfigError } from "./src/config/live_config.ts";
import { type SecretBox, UnsealError } from "./src/store/secret_box.ts";
import { secretBoxFromEnvironment, SecretKeyError } from "./src/store/secret_keys.ts";
import { httpUrlOf, listenFailure, listenProblem, memoryTrim } from "./src/runtime.ts";
import { makeStoreFolder, openStore, storeProblem, StoreUnavailable } from "./src/store/open.ts";
import { type CounterStore, KvCounterStore } from "./src/store/shared_counters.ts";
import { LineWriter } from "./src/logging/line_writer.ts";
import { Logger } from "./src/logging/logger.ts";
import { logUncaughtErrors } from "./src/logging/uncaught_errors.ts";
import { serveErrorHandler } from "./src/serve_error.ts";
import { socketConnector } from "./src/transport/connect.ts";
import { type ProxySettings, proxySettings } from "./src/transport/proxy_settings.ts";
import { SERVICE_TYPES } from "./src/services.ts";
import { WorkerPool } from "./src/workers/pool.ts";
import { inWorker, WorkerLink, type WorkerScope } from "./src/workers/worker_link.ts";

const command = parseCommandLine(Deno.args, (name) => Deno.env.get(name), Deno.cwd());
if (command.kind === "help") {
  console.log(HELP);
  Deno.exit(0);
}
if (command.kind === "version") {
  console.log(`switchyard ${manifest.version}`);
  Deno.exit(0);
}
if (command.kind === "error") {
  console.error(`${command.message}\n\n${HELP}`);
  Deno.exit(2);
}
if (command.workers > 1 && Deno.build.os !== "linux") {
  console.error(
    `--workers ${command.workers} needs Linux, where workers share a port (SO_REUSEPORT); ` +
      `on ${Deno.build.os}, run one worker, or several gateways on ports of their own`,
  );
  Deno.exit(2);
}

/** The line to the primary, when this runs as one of its workers. */
const link = inWorker() ? new WorkerLink(globalThis as unknown as WorkerScope) : undefined;
/** This worker's number and port, from the primary. */
const started = link ? await link.started() : undefined;
// Told to stop before it serves (another worker could not start): nothing to drain.
link?.onStop(() => exit(0));
/** How many workers serve the port. */
const workers = command.workers;
/** The primary of several workers. */
const primary = link === undefined && workers > 1;

const configPath = command.configPath;
const storePath = command.kvPath;
// node-redis takes about 20 MiB once loaded: only a gateway given a Redis loads it.
const redis = command.redisUrl === undefined
  ? undefined
  : { url: command.redisUrl, ...await import("./src/store/redis_counters.ts") };
const source = configPath ?? "(embedded default)";
let text: string;
try {
  text = command.configPath === undefined
    ? defaultConfigText
    : await Deno.readTextFile(command.configPath);
} catch (error) {
  console.error(`Cannot read config "${source}": ${(error as Error).message}`);
  exit(1);
}

const overrides: ConfigOverride[] = [];
if (command.port) {
  const port = /^\d+$/.test(command.port.value) ? Number(command.port.value) : command.port.value;
  overrides.push({ path: ["server", "port"], value: port, origin: command.port.origin });
}
if (command.host) {
  overrides.push({ path: ["server", "host"], value: command.host, origin: "--host" });
}
if (started) {
  // The port the first worker took, when the config's is 0.
  overrides.push({ path: ["server", "port"], value: started.port, origin: "--port" });
}

let loaded;
try {
  loaded = parseConfig(text, { source, overrides });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  exit(1);
}
const { config } = loaded;

const instanceCount = SERVICE_TYPES.reduce(
  (sum, type) => sum + (config.model.services[type]?.instances.length ?? 0),
  0,
);
if (command.check) {
  for (const warning of loaded.warnings) console.warn(`warning: ${warning}`);
  console.log(`Config "${source}" is valid: ${instanceCount} instances; store "${command.kvPath}"`);
  // The rest of what start-up needs: the port to listen on and the store.
  const problems = [
    listenProblem(config.server.host, config.server.port),
    await storeProblem(command.kvPath, { makesFolder: command.kvDefault }),
    redis === undefined ? undefined : await redis.redisProblem(redis.url),
  ].filter((problem) => problem !== undefined);
  for (const problem of problems) console.error(problem);
  Deno.exit(problems.length === 0 ? 0 : 1);
}

// One line per event: readable on a terminal, JSON for a log shipper otherwise. Lines are
// batched when not on a terminal, so a busy gateway does not make a system call per request.
const terminal = Deno.stdout.isTerminal();
const format = config.log.format === "auto" ? (terminal ? "text" : "json") : config.log.format;
/** How long the last log lines may take to be written before the process exits. */
const LOG_DRAIN_MS = 5000;
// A worker's lines go to the primary, so that lines of several workers never interleave.
const output = new LineWriter({
  write: link
    ? (bytes) => Promise.resolve(link.writeLog(bytes))
    : (bytes) => Deno.stdout.write(bytes),
  writeSync: link ? (bytes) => link.writeLog(bytes) : (bytes) => Deno.stdout.writeSync(bytes),
  maxDelay: terminal ? 0 : 50,
  onDropped: (lines) =>
    logger.warn(`The log output was too slow: ${lines} log lines were dropped`, { dropped: lines }),
  unrefTimer: Deno.unrefTimer,
});
const logger = new Logger({
  level: config.log.level,
  format,
  output,
  fields: started ? { worker: started.worker } : undefined,
});
globalThis.addEventListener("unload", () => output.flush());
const logError = (message: string, error: unknown) =>
  logger.error(message, { error: describeError(error) });
// From here on, an error nothing caught is one log line, not a stack trace on stderr.
logUncaughtErrors(logError);
// The workers say them again.
if (!link) { for (const warning of loaded.warnings) logger.warn(warning); }

let proxies: ProxySettings | undefined;
try {
  proxies = proxySettings((name) => Deno.env.get(name));
} catch (error) {
  logger.error((error as Error).message);
  await logsWritten();
  exit(1);
}

let kv: Deno.Kv;
try {
  if (command.kvDefault) await makeStoreFolder(command.kvPath);
  kv = await openStore(command.kvPath);
  if (primary) kv.close();
} catch (error) {
  if (!(error instanceof StoreUnavailable)) cannotStart(error);
  logger.error(error.message);
  await logsWritten();
  exit(1);
}
let secrets: SecretBox | undefined;
try {
  secrets = await secretBoxFromEnvironment((name) => Deno.env.get(name));
} catch (error) {
  if (!(error instanceof SecretKeyError)) cannotStart(error);
  logger.error(error.message);
  await logsWritten();
  exit(1);
}

/** The signal that started the shutdown, and when (performance.now()). */
let stopping: { readonly signal: string; readonly at: number } | undefined;

if (primary) await servePrimary();
// Where the limits share their counts: Redis when named, else the store, which a `:memory:`
// store shares with no one.
let counters: CounterStore | undefined;
if (redis !== undefined) {
  let reported = false;
  counters = new redis.RedisCounterStore(redis.url, (error) => {
    // node-redis reports every failed reconnect; the sync's own warning says the rest.
    if (reported) return;
    reported = true;
    logger.warn(
      `Redis at ${redis.withoutPassword(redis.url)}: ${(error as Error).message ?? error}`,
    );
  });
} else if (storePath !== ":memory:") {
  counters = new KvCounterStore(kv);
}

let gateway: Gateway;
try {
  gateway = await createGateway({
    counters,
    secrets,
    config,
    fileModel: loaded.model,
    kv,
    source,
    adminKey: Deno.env.get("SWITCHYARD_ADMIN_KEY"),
    connect: socketConnector(),
    proxies,
    version: manifest.version,
    tracing: Deno.env.get("OTEL_DENO") === "true",
    memoryTrim: memoryTrim((name) => Deno.env.get(name)),
    logger,
    log: (message, level = "info") => logger.log(level, message),
    logError,
    peers: link,
  });
} catch (error) {
  if (!(error instanceof LiveConfigError) && !(error instanceof UnsealError)) cannotStart(error);
  logger.error(error.message);
  await logsWritten();
  exit(1);
}

// The handler becomes one that asks clients to close their connections once the gateway drains.
// Each answer of a worker names it.
const workerName = started ? String(started.worker) : undefined;
let handle = workerName === undefined
  ? (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => gateway.serve(request, info)
  : async (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
    withHeader(await gateway.serve(request, info), "x-switchyard-worker", workerName);

let server: Deno.HttpServer<Deno.NetAddr>;
try {
  server = serve();
} catch (error) {
  logger.error(listenFailure(error, config.server.host, config.server.port));
  await logsWritten();
  exit(1);
}

function serve(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: config.server.host,
    port: config.server.port,
    // Several workers share the port; the kernel spreads connections over them.
    reusePort: link !== undefined,
    onError: serveErrorHandler(logError),
    onListen({ hostname, port }) {
      logger.info(
        `Switchyard ${manifest.version} listening on ${httpUrlOf(hostname, port)} ` +
          `(config ${source}, version ${gateway.live.version}, store ${storePath}` +
          (redis ? `, limits shared through ${redis.withoutPassword(redis.url)}` : "") +
          ")",
      );
      for (const type of SERVICE_TYPES) {
        const service = gateway.registry.snapshot.services[type];
        if (service.upstreams.length === 0) continue;
        const names = [...new Set(service.upstreams.map((u) => u.name))].join(", ");
        logger.info(
          `${type}: ${service.loadBalance.type} over ${service.upstreams.length} (${names})`,
        );
      }
      if (link) {
        // Its start lines before the primary's line that all workers listen.
        output.flush();
        link.listening(port);
      }
    },
  }, (request, info) => handle(request, info));
}

/**
 * The first signal drains and stops (`stop`: this gateway, or every worker); a second one exits
 * at once, unless it is the same signal within a second: one Ctrl-C that a task runner or `npx`
 * passes on again after the terminal already delivered it to the whole process group.
 */
function onSignal(signal: string, stop: (signal: string) => Promise<void> = shutdown): void {
  const now = performance.now();
  if (stopping === undefined) {
    stopping = { signal, at: now };
    void stop(signal);
    return;
  }
  if (signal === stopping.signal && now - stopping.at < 1000) return;
  logger.warn(`${signal} again: exiting now`);
  output.flush();
  Deno.exit(1);
}

async function shutdown(signal: string): Promise<void> {
  const announce = config.server["shutdown-announce"];
  const grace = config.server["shutdown-grace"];
  logger.info(
    `${signal}: /ready answers 503` +
      (announce > 0 ? `; still accepting requests for ${announce} ms` : "") +
      `; then no new connections, and up to ${grace} ms for requests in flight`,
  );
  gateway.drain();
  const serveApp = handle;
  handle = async (request, info) =>
    withHeader(await serveApp(request, info), "connection", "close");
  if (announce > 0) await after(announce, undefined);
  const drained = server.shutdown().then(() => true);
  const drainedWithin = (ms: number) => Promise.race([drained, after(ms, false)]);
  const finished = await drainedWithin(grace);
  const cut = finished ? 0 : gateway.telemetry.active;
  if (!finished) {
    // A stream still open ends with an SSE error event, an answer not begun with a 503, each
    // with its log line; whatever is left when that has had its moment is cut.
    if (gateway.stopAttempts() > 0) await drainedWithin(STOPPED_FLUSH_MS);
    gateway.telemetry.cutInFlight();
  }
  await gateway.close();
  kv.close();
  logger.info(
    finished
      ? "Switchyard stopped: every request in flight finished"
      : `Switchyard stopped: the grace period ended with ${cut} ${
        cut === 1 ? "request" : "requests"
      } cut`,
  );
  await logsWritten();
  exit(0);
}

/** How long the requests stopped at the end of the grace period have to say so to their clients. */
const STOPPED_FLUSH_MS = 1000;

/** Resolves to `value` after `ms`. */
function after<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

/** `response` with the header `name` set to `value`. */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers: the same response, with headers of its own.
    const headers = new Headers(response.headers);
    headers.set(name, value);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}

/** Settles once the log lines so far are written: in the background, or after `LOG_DRAIN_MS` at once. */
async function logsWritten(): Promise<void> {
  await Promise.race([output.drained(), after(LOG_DRAIN_MS, undefined)]);
  output.flush();
}

/** Stops a start that failed unexpectedly, with one log line saying why. */
function cannotStart(error: unknown): never {
  logError("Cannot start", error);
  output.flush();
  exit(1);
}

/** Exits with `code`; a worker tells the primary first. */
function exit(code: number): never {
  link?.exiting(code);
  Deno.exit(code);
}

/**
 * The primary of several workers: the port checked (the config, store and secrets were),
 * starts them, and passes signals on; exits when they have all stopped, or with the code of one
 * that could not start.
 */
async function servePrimary(): Promise<never> {
  const { host, port } = config.server;
  const problem = listenProblem(host, port);
  if (problem !== undefined) {
    logger.error(problem);
    await logsWritten();
    Deno.exit(1);
  }
  const pool = new WorkerPool({
    workers,
    port,
    spawn: (worker) =>
      new Worker(import.meta.url, { type: "module", name: `switchyard-worker-${worker}` }),
    writeLog: (bytes) => output.bytes(bytes.subarray(0, bytes.length - 1)),
    log: (level, message) => logger.log(level, message),
  });
  const stopWorkers = async (signal: string) => {
    logger.info(`${signal}: stopping ${workers} workers`);
    await pool.stop(signal);
    logger.info(`All ${workers} workers stopped`);
    await logsWritten();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => onSignal("SIGINT", stopWorkers));
  Deno.addSignalListener("SIGTERM", () => onSignal("SIGTERM", stopWorkers));
  Deno.addSignalListener("SIGHUP", () => {
    if (!pool.reload()) logger.warn("SIGHUP: no worker is running to read the config again");
  });
  const start = await pool.start();
  if (start.kind === "failed") {
    await pool.stop("a failed start");
    await logsWritten();
    Deno.exit(start.code);
  }
  logger.info(`All ${workers} workers listening on ${httpUrlOf(host, start.port)}`);
  return await new Promise<never>(() => {});
}

/** An error for a log line: its stack when it has one. */
function describeError(error: unknown): string {
  return error instanceof Error ? error.stack ?? String(error) : String(error);
}
/** Sections a running gateway cannot take in: a change to them waits for a restart. */
const RESTART_SECTIONS = ["server", "admin", "auth", "log", "metrics", "model-groups"] as const;

/**
 * SIGHUP: reads the config file again; a file that does not validate changes nothing. Its
 * `model:` section goes live as a runtime change does (merged with the changes made since, or
 * replacing them with `admin.file-wins`); other sections that changed are named as waiting for
 * a restart.
 */
async function reload(): Promise<void> {
  if (configPath === undefined) {
    logger.warn("SIGHUP: the embedded default config is in use; there is no file to read again");
    return;
  }
  let reloaded;
  try {
    const text = await Deno.readTextFile(configPath);
    reloaded = parseConfig(text, { source, overrides });
  } catch (error) {
    const reason = error instanceof ConfigError
      ? error.message
      : `Cannot read config "${source}": ${(error as Error).message}`;
    logger.error(`SIGHUP: the running config stays. ${reason}`);
    return;
  }
  for (const warning of reloaded.warnings) logger.warn(warning);
  const waiting = RESTART_SECTIONS.filter((section) =>
    !deepEqual(reloaded.config[section], config[section])
  );
  if (waiting.length > 0) {
    logger.warn(
      `SIGHUP: ${waiting.join(", ")} changed in "${source}"; ` +
        `${waiting.length === 1 ? "it takes" : "they take"} effect at the next restart`,
    );
  }
  const result = await gateway.live.reloadFile(reloaded.model);
  switch (result.kind) {
    case "unchanged":
      logger.info(
        `SIGHUP: the model: section of "${source}" is unchanged (version ${result.version})`,
      );
      break;
    case "changed":
      logger.info(`SIGHUP: config version ${result.version}: ${result.action}`);
      for (const note of result.notes) logger.info(`  merge: ${note.path}: ${note.message}`);
      break;
    case "invalid":
      logger.error(
        `SIGHUP: the running config stays; the new model: section is not valid:\n` +
          result.problems.map((problem) => `  ${formatProblem(problem)}`).join("\n"),
      );
      break;
    case "busy":
      logger.error("SIGHUP: the running config stays; other gateways kept changing the store");
      break;
  }
}

if (link) {
  // The primary takes the signals and passes them on.
  link.onStop((signal) => onSignal(signal));
  link.onReload(() => void reload().catch((error) => logError("SIGHUP: reload failed", error)));
} else {
  Deno.addSignalListener("SIGINT", () => onSignal("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => onSignal("SIGTERM"));
}
if (!link && Deno.build.os !== "windows") {
  Deno.addSignalListener(
    "SIGHUP",
    () => void reload().catch((error) => logError("SIGHUP: reload failed", error)),
  );
}
