/**
 * `BENCH_ONLY=cluster`: three gateway processes sharing one store (a KV file, then a Redis when
 * `redis-server` is installed) hold one global limit together. Open-loop clients offer 300
 * requests a second, a third to each gateway, for `BENCH_SECONDS` (default 60):
 *
 * - a global request limit of 100 a second (a token bucket of 100): admitted against
 *   100 × seconds + the burst of 100; and the same three gateways sharing nothing, for scale;
 * - a global limit of 108,000 tokens a minute (100 requests a second of the fake backend's 18
 *   tokens, with a burst of a minute's worth): tokens admitted against 1,800 × seconds + 108,000;
 * - the request limit again, with an API key whose budget the ledger counts, and one gateway
 *   stopped halfway, by SIGKILL or by SIGTERM: the requests the store recorded for the key
 *   against the 200 answers the clients got;
 * - a daily token budget of an API key, sized for the offered load to use it up halfway through
 *   the run (300 × 18 tokens a second × `BENCH_SECONDS` ÷ 2): tokens admitted (the `usage` of the
 *   200 answers) against the budget. Budgets stay in the `--kv` store with or without `--redis`,
 *   so this case runs on the KV file only; `BENCH_BUDGET_SYNC` (ms) sets the gateways'
 *   `server.budgets-sync-interval` for it.
 *
 * `BENCH_CLUSTER_CASE=token-budget` runs the last case alone. `BENCH_CLUSTER_CASE=budget-commit`
 * measures instead what storing each answer's use before its end goes out costs: one gateway,
 * then three, on a KV file, offered 300 requests a second over a backend that answers in 20 ms,
 * alternating between a key with a budget (whose answers wait for their use stored) and one
 * without (whose use is written with the periodic sync): the answer time of each, from the
 * moment each request was due.
 * @module
 */
import { envInteger } from "./_env.ts";
import { type Child, freePort, spawn, waitForPort } from "./_process.ts";
import { findRedisServer as lookUpRedisServer } from "../tests/fixtures/redis.ts";

const REPO = new URL("../", import.meta.url).pathname;
const BENCH = new URL("./", import.meta.url).pathname;

/** Requests a second offered to the three gateways together. */
const OFFERED = 300;
const GATEWAYS = 3;
/** The global request limit: a rate, and a token bucket of this burst. */
const RATE = 100;
const BURST = 100;
/** Tokens the fake backend reports per answer. */
const TOKENS_PER_ANSWER = 18;
const TOKENS_PER_MINUTE = RATE * 60 * TOKENS_PER_ANSWER;
const SYNC_INTERVAL = 250;

/** A daily token budget the offered load uses up in half a run of `seconds`. */
function tokenBudget(seconds: number): number {
  return OFFERED * TOKENS_PER_ANSWER * seconds / 2;
}

/** What a client saw. */
interface Offered {
  sent: number;
  admitted: number;
  refused: number;
  failed: number;
  tokens: number;
  /** ms from each admitted request's due time to its whole answer, per key. */
  readonly latencies: Map<string, number[]>;
}

/** How the load is offered. */
interface OfferOptions {
  /** The API keys the requests go out with, in turn. @default ["sk-bench"] */
  readonly keys?: readonly string[];
  /** How long the fake backend holds back each answer, in ms. @default 0 */
  readonly answerDelayMs?: number;
}

/** One run's row. */
interface ClusterRow {
  readonly scenario: string;
  readonly store: string;
  readonly measure: string;
  readonly expected: number;
  readonly measured: number;
  readonly note: string;
}

/** Where the gateways share their counts. */
interface Store {
  readonly name: string;
  /** Store arguments for one gateway; `index` tells them apart where the store is private. */
  args(index: number): string[];
  /** The KV file the ledger writes to. */
  readonly kvFile: string | undefined;
}

const BODY = JSON.stringify({
  model: "bench-model",
  messages: [{ role: "user", content: "Say hello" }],
  max_tokens: 9,
});

/** Runs the scenarios and prints the table; 0 when every run finished. */
export async function clusterBench(dir: string): Promise<number> {
  const seconds = envInteger("BENCH_SECONDS", 60, [2, 600]);
  const redisBinary = findRedisServer();
  console.log(
    `BENCH_ONLY=cluster: ${GATEWAYS} gateways, ${OFFERED} requests/s offered for ${seconds} s ` +
      `(BENCH_SECONDS), limits synced every ${SYNC_INTERVAL} ms; ${navigator.hardwareConcurrency} ` +
      `CPUs, deno ${Deno.version.deno}` + (redisBinary ? `, ${redisBinary}` : ", no redis-server"),
  );
  const backend = await startBackend();
  const rows: ClusterRow[] = [];
  const only = Deno.env.get("BENCH_CLUSTER_CASE");
  if (only !== undefined && only !== "" && only !== "token-budget" && only !== "budget-commit") {
    throw new RangeError(
      `BENCH_CLUSTER_CASE must be "token-budget" or "budget-commit", got "${only}"`,
    );
  }
  const budgetSync = Deno.env.get("BENCH_BUDGET_SYNC")
    ? envInteger("BENCH_BUDGET_SYNC", 1000, [10, 10_000])
    : undefined;
  let run = 0;
  const kvStore = (): Store => {
    const file = `${dir}/shared-${++run}.kv`;
    return { name: "KV file", args: () => ["--kv", file], kvFile: file };
  };
  const redisStore = async (): Promise<Store> => {
    const url = await startRedis(redisBinary!);
    const file = `${dir}/ledger-${++run}.kv`;
    return { name: "Redis", args: () => ["--kv", file, "--redis", url], kvFile: file };
  };
  const stores = async function* (): AsyncGenerator<Store> {
    yield kvStore();
    if (redisBinary) yield await redisStore();
  };

  if (only === "budget-commit") {
    await budgetCommitCases(dir, backend, kvStore, seconds);
    await backend.stop();
    return 0;
  }
  if (only !== "token-budget") {
    await limitCases(dir, backend, stores, rows, seconds);
  }
  {
    const store = kvStore();
    const budget = tokenBudget(seconds);
    const offered = await runScenario(
      dir,
      backend,
      store,
      tokenBudgetConfig(budget, budgetSync),
      seconds,
    );
    rows.push({
      scenario: `token budget ${format(budget)}/day` +
        (budgetSync === undefined ? "" : `, synced every ${budgetSync} ms`),
      store: store.name,
      measure: "tokens admitted",
      expected: budget,
      measured: offered.tokens,
      note: `${offered.admitted} answers, ${offered.refused} refused, ${offered.failed} failed, ` +
        `of ${offered.sent}`,
    });
  }
  await backend.stop();
  printTable(rows);
  return 0;
}

/** The rate limit, token limit and stopped-gateway cases. */
async function limitCases(
  dir: string,
  backend: { readonly url: string },
  stores: () => AsyncGenerator<Store>,
  rows: ClusterRow[],
  seconds: number,
): Promise<void> {
  for await (const store of stores()) {
    const offered = await runScenario(dir, backend, store, requestLimitConfig(), seconds);
    rows.push(admittedRow("request limit 100/s", store.name, offered, seconds));
  }
  {
    const separate: Store = {
      name: "none (:memory: each)",
      args: () => ["--kv", ":memory:"],
      kvFile: undefined,
    };
    const offered = await runScenario(dir, backend, separate, requestLimitConfig(), seconds);
    rows.push(admittedRow("request limit 100/s", separate.name, offered, seconds));
  }
  for await (const store of stores()) {
    const offered = await runScenario(dir, backend, store, tokenLimitConfig(), seconds);
    // Or all that was offered, in a run too short to spend the burst.
    const expected = Math.min(
      TOKENS_PER_MINUTE / 60 * seconds + TOKENS_PER_MINUTE,
      OFFERED * seconds * TOKENS_PER_ANSWER,
    );
    rows.push({
      scenario: "token limit 108,000/min",
      store: store.name,
      measure: "tokens admitted",
      expected,
      measured: offered.tokens,
      note: `${offered.admitted} answers of ${offered.sent}`,
    });
  }
  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    for await (const store of stores()) {
      const offered = await runScenario(dir, backend, store, budgetConfig(), seconds, { signal });
      const recorded = await recordedRequests(store.kvFile!);
      rows.push(admittedRow(`request limit, one ${signal}ed`, store.name, offered, seconds));
      rows.push({
        scenario: `budget use, one ${signal}ed`,
        store: store.name,
        measure: "requests recorded",
        expected: offered.admitted,
        measured: recorded,
        note: `acknowledged (200) answers: ${offered.admitted}; ` +
          `${offered.admitted - recorded} not recorded`,
      });
    }
  }
}

/** Answer times with and without a budget, from one gateway and from three sharing the file. */
async function budgetCommitCases(
  dir: string,
  backend: { readonly url: string },
  kvStore: () => Store,
  seconds: number,
): Promise<void> {
  const keys = ["sk-bench", "sk-open"] as const;
  console.log("");
  console.log(
    "| gateways | key | answers | p50 ms | p99 ms | p99.9 ms | max ms | failed | recorded |",
  );
  console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const count of [1, GATEWAYS]) {
    const store = kvStore();
    const offered = await runScenario(dir, backend, store, budgetCommitConfig(), seconds, {
      count,
      offer: { keys, answerDelayMs: 20 },
    });
    const recorded = await recordedRequests(store.kvFile!);
    for (const key of keys) {
      const sorted = (offered.latencies.get(key) ?? []).sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      const ms = (q: number) => (at(q) ?? NaN).toFixed(1);
      console.log(
        `| ${count} | ${key === "sk-bench" ? "with a budget" : "without"} | ${sorted.length} | ` +
          `${ms(0.5)} | ${ms(0.99)} | ${ms(0.999)} | ${ms(1)} | ` +
          `${key === "sk-bench" ? offered.failed : ""} | ` +
          `${key === "sk-bench" ? `${recorded} of ${sorted.length}` : ""} |`,
      );
    }
  }
}

function admittedRow(scenario: string, store: string, offered: Offered, seconds: number) {
  return {
    scenario,
    store,
    measure: "requests admitted",
    expected: RATE * seconds + BURST,
    measured: offered.admitted,
    note: `${offered.refused} refused, ${offered.failed} failed, of ${offered.sent}`,
  };
}

function printTable(rows: readonly ClusterRow[]): void {
  console.log("");
  console.log("| scenario | store | measure | expected | measured | off by | |");
  console.log("| --- | --- | --- | ---: | ---: | ---: | --- |");
  for (const row of rows) {
    const off = (row.measured - row.expected) / row.expected * 100;
    console.log(
      `| ${row.scenario} | ${row.store} | ${row.measure} | ${format(row.expected)} | ` +
        `${format(row.measured)} | ${off >= 0 ? "+" : ""}${off.toFixed(1)}% | ${row.note} |`,
    );
  }
}

function format(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

const SERVER = `server:
  host: 127.0.0.1
  port: PORT
  limits-sync-interval: ${SYNC_INTERVAL}
log:
  requests: false
`;

function modelSection(limit: string | undefined): string {
  return `model:
${limit === undefined ? "" : `  rate-limit: ${limit}\n`}  services:
    chat:
      instances:
        - name: bench-model
          base-url: BACKEND
          adapter: openai
`;
}

function requestLimitConfig(): string {
  return SERVER +
    modelSection(`{ algorithm: token-bucket, capacity: ${BURST}, rate: ${RATE}, scope: global }`);
}

function tokenLimitConfig(): string {
  return SERVER + modelSection(`{ tokens-per-minute: ${TOKENS_PER_MINUTE}, scope: global }`);
}

/** Client authentication with the bench's key, `sk-bench`, under `budget`, then `others`. */
function authSection(budget: string, others = ""): string {
  return `auth:
  enabled: true
  keys:
    - id: bench
      key: sk-bench
      budget: ${budget}
${others}`;
}

function budgetConfig(): string {
  return SERVER + authSection("{ requests-per-day: 1000000000 }") +
    modelSection(`{ algorithm: token-bucket, capacity: ${BURST}, rate: ${RATE}, scope: global }`);
}

/** Two keys, one with a budget (whose use each answer waits for) and one without. */
function budgetCommitConfig(): string {
  const open = "    - id: open\n      key: sk-open\n";
  return SERVER + authSection("{ requests-per-day: 1000000000 }", open) + modelSection(undefined);
}

function tokenBudgetConfig(budget: number, budgetSync: number | undefined): string {
  const server = budgetSync === undefined
    ? SERVER
    : SERVER.replace("log:", `  budgets-sync-interval: ${budgetSync}\nlog:`);
  return server + authSection(`{ tokens-per-day: ${budget} }`) + modelSection(undefined);
}

/**
 * Starts the gateways on `store`, offers the load, stops one halfway by `stop.signal` when
 * asked, then stops the rest with SIGTERM (so they store what they counted).
 */
async function runScenario(
  dir: string,
  backend: { readonly url: string },
  store: Store,
  config: string,
  seconds: number,
  options: {
    readonly signal?: "SIGKILL" | "SIGTERM";
    /** @default GATEWAYS */
    readonly count?: number;
    readonly offer?: OfferOptions;
  } = {},
): Promise<Offered> {
  const gateways: { child: Child; url: string }[] = [];
  for (let index = 0; index < (options.count ?? GATEWAYS); index++) {
    const port = freePort();
    const path = `${dir}/cluster-${index}.yaml`;
    await Deno.writeTextFile(
      path,
      config.replace("PORT", String(port)).replace("BACKEND", backend.url),
    );
    // One after another: processes creating one KV file at the same moment may find it locked.
    const child = spawn(`gateway ${index + 1}`, Deno.execPath(), [
      "run",
      "-A",
      `${REPO}main.ts`,
      "--config",
      path,
      ...store.args(index),
    ], { cwd: REPO, grace: 15_000 });
    await waitForPort(child, port);
    gateways.push({ child, url: `http://127.0.0.1:${port}/v1/chat/completions` });
  }
  const signal = options.signal;
  const halfway = signal === undefined ? undefined : setTimeout(() => {
    Deno.kill(gateways.at(-1)!.child.pid, signal);
  }, seconds * 500);
  const offered = await offer(gateways.map((gateway) => gateway.url), seconds, options.offer);
  clearTimeout(halfway);
  for (const gateway of gateways) await gateway.child.stop();
  return offered;
}

/** Sends {@linkcode OFFERED} requests a second, in turn to each of `urls`, for `seconds`. */
async function offer(
  urls: readonly string[],
  seconds: number,
  options: OfferOptions = {},
): Promise<Offered> {
  const total = OFFERED * seconds;
  const periodMs = 1000 / OFFERED;
  const keys = options.keys ?? ["sk-bench"];
  const offered: Offered = {
    sent: 0,
    admitted: 0,
    refused: 0,
    failed: 0,
    tokens: 0,
    latencies: new Map(keys.map((key) => [key, []])),
  };
  const headersOf = keys.map((key) => ({
    "content-type": "application/json",
    authorization: `Bearer ${key}`,
    "x-bench-answer-delay": String(options.answerDelayMs ?? 0),
  }));
  const answered: Promise<void>[] = [];
  const send = async (url: string, index: number, due: number) => {
    offered.sent++;
    try {
      const headers = headersOf[index % keys.length]!;
      const response = await fetch(url, { method: "POST", headers, body: BODY });
      if (response.status === 200) {
        const body = await response.json() as { usage?: { total_tokens?: number } };
        offered.admitted++;
        offered.tokens += body.usage?.total_tokens ?? 0;
        offered.latencies.get(keys[index % keys.length]!)!.push(performance.now() - due);
      } else {
        await response.body?.cancel();
        if (response.status === 429) offered.refused++;
        else offered.failed++;
      }
    } catch {
      offered.failed++;
    }
  };
  const started = performance.now();
  for (let index = 0; index < total;) {
    const now = performance.now();
    for (; index < total && started + index * periodMs <= now; index++) {
      answered.push(send(urls[index % urls.length]!, index, started + index * periodMs));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(answered);
  return offered;
}

/** The requests the budgets' ledger recorded for the bench's key, read from the KV file. */
async function recordedRequests(file: string): Promise<number> {
  using kv = await Deno.openKv(file);
  let requests = 0;
  for await (const entry of kv.list<Deno.KvU64>({ prefix: ["switchyard", "usage"] })) {
    const [, , , subject, , metric] = entry.key as string[];
    if (subject === "key:bench" && metric === "requests") requests += Number(entry.value.value);
  }
  return requests;
}

async function startBackend(): Promise<Child & { readonly url: string }> {
  const port = freePort();
  const child = spawn("the fake backend", Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-read",
    `${BENCH}fake_backend.ts`,
    "--port",
    String(port),
  ]);
  await waitForPort(child, port);
  return Object.assign(child, { url: `http://127.0.0.1:${port}` });
}

function findRedisServer(): string | undefined {
  const lookup = lookUpRedisServer();
  return lookup.found ? lookup.binary : undefined;
}

/** A Redis of the bench's own, on a free port, saving nothing; stopped with the bench. */
async function startRedis(binary: string): Promise<string> {
  const port = freePort();
  const child = spawn("redis-server", binary, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  await waitForPort(child, port);
  return `redis://127.0.0.1:${port}`;
}
