/**
 * The gateway as a function of its dependencies: no I/O at import, no globals, so tests build
 * it with fake backends and `main.ts` serves it.
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { guardAdminRoutes } from "./admin/admin_api.ts";
import { adminAccess, hasAdminCredentials } from "./admin/admin_guard.ts";
import { AuditLog } from "./admin/audit.ts";
import { mountJaiRouterRoutes } from "./admin/jairouter_routes.ts";
import { mountConfigRoutes } from "./admin/routes_config.ts";
import { mountKeyRoutes } from "./admin/routes_keys.ts";
import { mountUsageRoutes } from "./admin/routes_usage.ts";
import { mountServiceRoutes } from "./admin/routes_services.ts";
import { mountStateRoutes } from "./admin/routes_state.ts";
import { mountTeamRoutes } from "./admin/routes_teams.ts";
import { mountWhoAmIRoute } from "./admin/routes_whoami.ts";
import { mountMetricsHistoryRoute } from "./admin/routes_metrics_history.ts";
import { mountRequestRoutes, requestAnswer } from "./admin/routes_requests.ts";
import { mountConsole } from "./console/console_routes.tsx";
import { CONSOLE_VIEW_ASSETS, consoleViews } from "./console/views.ts";
import { Authenticator } from "./auth/authenticator.ts";
import type { JsonObject } from "./lib/json.ts";
import { LiveConfig, type StoredConfig } from "./config/live_config.ts";
import { sealedSecrets } from "./config/sealed_secrets.ts";
import { hasSecrets } from "./config/secrets.ts";
import type { Config } from "./config/schema.ts";
import { clientAuth } from "./middleware/client_auth.ts";
import { errorResponse, GatewayError, internalError } from "./errors.ts";
import type { GatewayApp, GatewayEnv } from "./gateway_env.ts";
import type { JwtFetch } from "./auth/jwt.ts";
import { BackendMonitor, type MonitoredBackend } from "./health/monitor.ts";
import { Poller, realSchedule, type Schedule } from "./health/poller.ts";
import { LimiterPersistence } from "./limiter/persistence.ts";
import { SharedCounts, type SyncStatus } from "./limiter/shared_counts.ts";
import type { CounterStore } from "./store/shared_counters.ts";
import type { RateLimits } from "./limiter/rate_limits.ts";
import { observeRequests } from "./middleware/observe_requests.ts";
import { requestId } from "./middleware/request_id.ts";
import type { Logger } from "./logging/logger.ts";
import { GatewayMetrics, mergeRuleOf } from "./metrics/gateway_metrics.ts";
import { addressCheck } from "./net/address_policy.ts";
import { originReader } from "./net/forwarding.ts";
import type { ProxyObserver } from "./observe/proxy_observer.ts";
import type { RequestRecord } from "./observe/request_record.ts";
import { Telemetry } from "./observe/telemetry.ts";
import { AttemptsInFlight } from "./proxy/attempt/attempts_in_flight.ts";
import { bodyIdleError } from "./proxy/request/body.ts";
import { BodyIdleWatch } from "./proxy/request/body_idle_watch.ts";
import { Registry } from "./registry/registry.ts";
import { IdleRelease } from "./lib/idle_release.ts";
import { TurnTaking } from "./lib/turn_taking.ts";
import type { MemoryTrim } from "./runtime.ts";
import { mountDocsRoutes } from "./routes/docs.ts";
import { mountHealthRoutes } from "./routes/health.ts";
import { routedPath } from "./routes/api_prefix.ts";
import { isClientApiCall } from "./routes/client_api_call.ts";
import { COUNT_TOKENS_PATH, errorsFor, mountMessagesRoutes } from "./routes/messages.ts";
import { mountOpenAiRoutes } from "./routes/openai.ts";
import { mountMetricsRoute } from "./routes/metrics.ts";
import { mountStatusRoutes } from "./routes/status.ts";
import { mountStoredResponseRoutes } from "./routes/stored_responses.ts";
import { mountStatusOverview } from "./routes/status_overview.ts";
import { mountStatusPage } from "./routes/status_page.ts";
import { mountStatsRoutes } from "./routes/stats.ts";
import { waitingPerService } from "./stats/metrics_history.ts";
import {
  ApiKeyStore,
  AuditStore,
  ConfigVersionStore,
  LimiterSnapshotStore,
  TeamStore,
} from "./store/mod.ts";
import type { SecretBox } from "./store/secret_box.ts";
import { SERVICE_ENDPOINTS, SERVICE_TYPES } from "./services.ts";
import type { Connect } from "./transport/http1/socket.ts";
import { http1Transport } from "./transport/http1_transport.ts";
import type { ProxySettings } from "./transport/proxy_settings.ts";
import { UsageLedger } from "./budget/ledger.ts";
import { settleUsage } from "./budget/settlement.ts";
import type { ProxyDeps } from "./proxy/types.ts";
import { type LiveAction, takeAction } from "./admin/live_actions.ts";
import { mergeExpositions } from "./metrics/merged_exposition.ts";
import type { Answer, Question } from "./workers/messages.ts";
import type { Peers } from "./workers/peers.ts";

/** ms between samples of the queues' length for the live charts. */
const QUEUE_SAMPLE_INTERVAL = 1000;

/** What the gateway is built from. */
export interface GatewayDeps {
  readonly config: Config;
  /**
   * The file's `model:` section as written, before defaults: what is stored as version 1, or
   * merged with the changes made at runtime since the file last changed.
   */
  readonly fileModel: JsonObject;
  /** Where the config's versions, the audit trail, API keys and limiter snapshots live. */
  readonly kv: Deno.Kv;
  /**
   * Where the rate and token limits share their counts with the other gateways of the store
   * (Redis, or the `--kv` store); each limit is this gateway's own when undefined. Closed with
   * the gateway.
   */
  readonly counters?: CounterStore | undefined;
  /** Where the file came from, for the first version's description. */
  readonly source?: string;
  /** Seals the instance secrets the store keeps; kept in clear when undefined. */
  readonly secrets?: SecretBox | undefined;
  /** `SWITCHYARD_ADMIN_KEY`: an admin key besides those in `admin.keys`. */
  readonly adminKey?: string | undefined;
  /** Opens connections to backends: TCP, TLS, through a proxy. */
  readonly connect: Connect;
  /** The proxies the environment names for requests to backends; none when undefined. */
  readonly proxies?: ProxySettings | undefined;
  /** The version shown in the OpenAPI document. */
  readonly version: string;
  /** Randomness for the `random` strategy. @default Math.random */
  readonly random?: () => number;
  /** Logs an unexpected error. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
  /**
   * Logs an event: a backend going up or down, a breaker opening, a config change. What
   * needs an operator's eye (a backend down, a breaker open) is a warning. @default console.log
   */
  readonly log?: (message: string, level?: "info" | "warn") => void;
  /** Where request lines go (when `log.requests` is on); none writes none. */
  readonly logger?: Logger;
  /** OpenTelemetry is on (`OTEL_DENO=true`): attempts get spans, whose context backends get. */
  readonly tracing?: boolean;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** Schedules health probes, other polls and limiter snapshots. @default setTimeout */
  readonly schedule?: Schedule;
  /** Fetches JWKS documents. @default fetch */
  readonly fetch?: JwtFetch;
  /**
   * Gives memory back once no client request has been in flight for a few seconds after some
   * (and after start-up); none when undefined.
   */
  readonly memoryTrim?: MemoryTrim | undefined;
  /**
   * The other workers serving the same port, when there are several: `/metrics` sums theirs,
   * and a config change or an action on live state answers once every worker has taken it.
   */
  readonly peers?: Peers | undefined;
}

/** A built gateway: its request handler and the state behind it. */
export interface Gateway {
  readonly app: GatewayApp;
  /**
   * Serves a request from the server: the app, with new calls to the client API (`POST /v1/…`)
   * taking turns with the work in flight ({@linkcode TurnTaking}). Reads (health, readiness,
   * metrics, the console) and the admin API never wait ({@linkcode isClientApiCall}).
   */
  serve(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
  readonly registry: Registry;
  /** Request counters and metrics. */
  readonly telemetry: Telemetry;
  /** The versioned config behind the registry. */
  readonly live: LiveConfig;
  /** How the limits' sync with other gateways stands; undefined when limits are not shared. */
  sharedLimits(): SyncStatus | undefined;
  /** Makes `/ready` answer 503, for the shutdown grace period. */
  drain(): void;
  /**
   * Ends every request still waiting on a backend: a stream with an SSE error event, an answer
   * not yet begun with `503 gateway_stopping`. For the end of a shutdown's grace period; how
   * many attempts were stopped.
   */
  stopAttempts(): number;
  /**
   * Stops probing and polling backends and following the store; saves the limiters a last
   * time; closes idle connections.
   */
  close(): Promise<void>;
}

/**
 * Builds the gateway app: loads the live config from the store (merging in what changed in
 * the file), and follows changes made to it from now on, here or by another gateway. Restores
 * the limiters saved by the gateway that last listened on this address, and saves them every
 * `server.limits-save-interval` ms until closed.
 */
export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  let draining = false;
  const peers = deps.peers;
  const askOthers = async (question: Question) => {
    await peers?.ask(question);
  };
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  const log = deps.log ?? ((message) => console.log(message));
  const startedAt = new Date();
  const metrics = deps.config.metrics.enabled
    ? new GatewayMetrics({ version: deps.version, ...(deps.now ? { now: deps.now } : {}) })
    : undefined;
  const registry = new Registry(deps.config.model, {
    retries: deps.config.server.retries,
    addressCheck: addressCheck({ allowPrivate: deps.config.admin["allow-private"] }),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    groups: deps.config["model-groups"],
    onBreakerTransition: (id, from, to) => {
      metrics?.breakerTransitions.labels({ instance: id, from, to }).inc();
      log(`Circuit breaker of ${id}: ${from} → ${to}`, to === "open" ? "warn" : "info");
    },
  });
  // What keys and teams use, for budgets and the usage report: kept when clients authenticate.
  const ledger = deps.config.auth.enabled
    ? new UsageLedger(deps.kv, {
      timeZone: deps.config.auth["budget-time-zone"],
      ...(deps.now ? { now: deps.now } : {}),
      onCommitFailed: (error) =>
        logError("Could not store the usage; it is kept in memory for the next write", error),
    })
    : undefined;
  await ledger?.open();
  const telemetry = new Telemetry({
    metrics,
    onSettled: ledger ? (record) => settleUsage(ledger, record) : undefined,
    logger: deps.config.log.requests ? deps.logger : undefined,
    bodies: deps.config.log.bodies
      ? {
        limit: deps.config.log["body-bytes"],
        masks: deps.config.log.mask.map((pattern) => new RegExp(pattern, "g")),
      }
      : undefined,
    ...(deps.now ? { now: deps.now } : {}),
  });
  telemetry.pricing(registry.snapshot.priced);
  registry.subscribe((snapshot) => telemetry.pricing(snapshot.priced));
  const transport = http1Transport(deps.connect, { proxies: deps.proxies });
  const monitor = new BackendMonitor({
    transport,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.schedule ? { schedule: deps.schedule } : {}),
    onHealthChanged: (backend) =>
      log(healthChange(backend), backend.state.health.status === "down" ? "warn" : "info"),
    onError: logError,
    onModelsChanged: (backend) => {
      const count = backend.state.models?.length ?? 0;
      log(`Backend ${describe(backend)} lists ${plural(count, "model")}`);
      registry.refresh();
    },
  });
  registry.subscribe((snapshot) => monitor.sync(snapshot.backends));
  const auditStore = new AuditStore(deps.kv);
  const audit = new AuditLog(auditStore, deps.now ? { now: deps.now } : {});
  const versions = new ConfigVersionStore<StoredConfig>(deps.kv, auditStore, {
    keep: deps.config.admin["keep-versions"],
    codec: sealedSecrets(deps.secrets),
  });
  const live = await LiveConfig.open(versions, deps.fileModel, {
    apply: (model, { file }) => registry.apply(model, file),
    audit,
    log,
    fileWins: deps.config.admin["file-wins"],
    ...(deps.source ? { source: deps.source } : {}),
    ...(deps.peers ? { applied: (version) => askOthers({ kind: "config", version }) } : {}),
  });
  if (deps.secrets === undefined && hasSecrets(live.model)) {
    log(
      "The config holds instance secrets that the store keeps in clear: set " +
        "SWITCHYARD_SECRET_KEY to seal them, or name environment variables with ${NAME}",
      "warn",
    );
  }
  if (!(await versions.headIsCurrent())) {
    const resealed = await live.reseal();
    if (resealed.kind === "changed") {
      log(`Config version ${resealed.version}: secrets sealed with key ${deps.secrets?.keyId}`);
    }
  }
  live.watch();
  monitor.sync(registry.snapshot.backends);

  const authenticator = new Authenticator(deps.config.auth, {
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const keys = new ApiKeyStore(deps.kv, auditStore);
  const teams = new TeamStore(deps.kv, auditStore);
  const reloadClients = async () => {
    const [storedKeys, storedTeams] = await Promise.all([keys.list(), teams.list()]);
    authenticator.useStored(storedKeys, storedTeams);
  };
  await reloadClients();
  const keyWatcher = keys.watch(() =>
    reloadClients().catch((error) => logError("Could not reload API keys and teams", error))
  );
  const access = adminAccess(deps.config.admin, deps.adminKey, {
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  log(
    !hasAdminCredentials(access)
      ? "Admin API at /admin answers only on loopback: no admin key is configured " +
        "(admin.keys or SWITCHYARD_ADMIN_KEY)"
      : `Admin API at /admin: ${plural(access.keys.length, "admin key")}` +
        (access.jwt ? " and admin JWTs" : ""),
  );
  if (!deps.config.auth.enabled && !isLoopbackHost(deps.config.server.host)) {
    log(
      `The client API /v1 is open to anyone who can reach ${deps.config.server.host}:` +
        `${deps.config.server.port}: no client authentication (auth.enabled). Turn it on, or ` +
        `listen on 127.0.0.1 only`,
      "warn",
    );
  }
  if (deps.config.auth.enabled) {
    log(
      `Client authentication on: ${plural(deps.config.auth.keys.length, "key")} in the config` +
        (deps.config.auth.jwt ? ", JWTs accepted" : ""),
    );
  }

  const app: GatewayApp = new OpenAPIHono<GatewayEnv>({ getPath: routedPath });
  app.use(requestId());
  const originOf = originReader(deps.config.server["trusted-proxies"]);
  const traced = deps.tracing ? await tracedObserver() : undefined;
  for (const service of SERVICE_TYPES) {
    app.use(
      SERVICE_ENDPOINTS[service].path,
      observeRequests(telemetry, service, { originOf, traced }),
    );
  }
  app.use(
    COUNT_TOKENS_PATH,
    observeRequests(telemetry, "messages", { originOf, traced }),
  );
  // Before the client API's authentication: these take an admin key instead of a client's.
  const now = deps.now ?? Date.now;
  const schedule = deps.schedule ?? realSchedule;
  const targets = { snapshot: () => registry.snapshot, telemetry, monitor, now };
  const othersToo = (action: LiveAction) => askOthers({ kind: "act", action });
  mountStatsRoutes(app, { registry, telemetry, monitor, access, audit, now, othersToo });
  if (deps.config.auth.enabled) {
    const authenticate = clientAuth(authenticator, originOf);
    app.use("/v1/*", authenticate);
    // What the gateway serves and how busy it is are not for anyone who can reach the port.
    if (!deps.config.auth["public-status"]) {
      app.use("/status.json", authenticate);
      app.use("/metrics", authenticate);
    }
  }
  const bodyIdleMs = deps.config.server.timeouts["body-idle"];
  const bodyIdle = bodyIdleMs > 0
    ? new BodyIdleWatch(bodyIdleMs, { error: () => bodyIdleError(bodyIdleMs) })
    : undefined;
  const attempts = new AttemptsInFlight();
  // What every proxied route forwards with.
  const proxyDeps: ProxyDeps = {
    registry,
    server: deps.config.server,
    transport,
    attempts,
    bodyIdle,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(ledger ? { ledger } : {}),
  };
  mountOpenAiRoutes(app, { ...proxyDeps, startedAt });
  mountMessagesRoutes(app, proxyDeps);
  mountStatusRoutes(app, registry, deps.now);
  mountStoredResponseRoutes(app, proxyDeps);
  const sharedCounts = deps.counters
    ? new SharedCounts(deps.counters, {
      interval: deps.config.server["limits-sync-interval"],
      ...(deps.now ? { now: deps.now } : {}),
      onFailing: (error) =>
        log(
          `Cannot sync the limits' counts with the ${deps.counters!.kind} store ` +
            `(${error instanceof Error ? error.message : String(error)}): each limit counts ` +
            "this gateway's requests alone until it can",
          "warn",
        ),
      onRecovered: () => log(`The limits' counts sync with the ${deps.counters!.kind} store again`),
    })
    : undefined;
  const sharedLimits = () => sharedCounts?.status;
  if (sharedCounts) {
    registry.live.limits.share(sharedCounts);
    authenticator.limits.share(sharedCounts);
  }
  mountStatusOverview(app, {
    sharedLimits,
    registry,
    telemetry,
    version: deps.version,
    configVersion: () => live.version,
    startedAt,
    now,
  });
  mountStatusPage(app);
  const turns = new TurnTaking({ onWait: metrics && (() => metrics.turnWaits.inc()) });
  if (metrics) {
    metrics.collectFrom({
      snapshot: () => registry.snapshot,
      configVersion: () => live.version,
      sharedLimits,
      waitingForTurn: () => turns.waiting,
    });
    mountMetricsRoute(
      app,
      peers
        ? async () => {
          const here = { worker: peers.worker, text: metrics.render() };
          const others = await peers.ask({ kind: "metrics" });
          const texts = [
            here,
            ...others.flatMap(({ worker, text }) => text ? [{ worker, text }] : []),
          ];
          return mergeExpositions(texts, mergeRuleOf);
        }
        : () => metrics.render(),
    );
  }
  mountHealthRoutes(app, () => draining);
  const adminDeps = {
    live,
    registry,
    audit,
    keys,
    teams,
    reloadClients,
    authenticator,
    access,
    allowPrivate: deps.config.admin["allow-private"],
    ...(deps.now ? { now: deps.now } : {}),
  };
  guardAdminRoutes(app, access);
  mountConfigRoutes(app, adminDeps);
  mountUsageRoutes(app, {
    ledger,
    timeZone: deps.config.auth["budget-time-zone"],
    teamOfKey: (key) => authenticator.teamOfKey(key),
  });
  mountServiceRoutes(app, adminDeps);
  mountStateRoutes(app, {
    ...adminDeps,
    act: async (action) => {
      await takeAction(action, targets);
      await othersToo(action);
    },
  });
  mountKeyRoutes(app, adminDeps);
  mountTeamRoutes(app, adminDeps);
  mountJaiRouterRoutes(app, adminDeps);
  mountWhoAmIRoute(app);
  mountMetricsHistoryRoute(app, telemetry.history);
  mountRequestRoutes(app, telemetry.recentRequests, peers);
  mountConsole(app, {
    version: deps.version,
    views: consoleViews({
      registry,
      now,
      live,
      audit,
      keys,
      authenticator,
      ledger,
      telemetry,
    }),
    assets: CONSOLE_VIEW_ASSETS,
  });
  mountDocsRoutes(app, { version: deps.version });

  const methodsByPath = new Map<string, string[]>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
  }
  app.notFound((c) => {
    const allowed = methodsByPath.get(c.req.path);
    if (allowed) {
      const allow = [...new Set(allowed)].join(", ");
      return errorsFor(c.req.raw).response(
        new GatewayError(
          405,
          "method_not_allowed",
          `Use ${allow} for ${c.req.path}, not ${c.req.method}`,
          {
            headers: { allow },
          },
        ),
      );
    }
    return errorResponse(
      new GatewayError(404, "not_found", `No route for ${c.req.method} ${c.req.path}`),
    );
  });
  app.onError((error, c) => {
    const errors = errorsFor(c.req.raw);
    if (error instanceof GatewayError) return errors.response(error);
    logError(`Unexpected error on ${c.req.method} ${c.req.path}`, error);
    return errors.response(internalError());
  });

  // Restored before the gateway serves its first request; the timers start last, so that no
  // step above that throws leaves it running.
  const limiterSnapshots = await keepLimiterSnapshots(registry.live.limits, {
    // Each worker keeps limiters of its own, and saves them apart.
    store: new LimiterSnapshotStore(
      deps.kv,
      `${deps.config.server.host}:${deps.config.server.port}` +
        (peers ? `/worker-${peers.worker}` : ""),
    ),
    interval: deps.config.server["limits-save-interval"],
    now,
    schedule,
    log,
    logError,
  });
  const ledgerFlush = ledger
    ? new Poller(
      () => ledger.flush().catch((error) => logError("Could not store the usage", error)),
      deps.config.server["budgets-sync-interval"],
      { schedule },
    )
    : undefined;
  ledgerFlush?.start({ wait: true });
  // The live charts' queue length: a sample a second, on real timers whatever schedules the
  // polls.
  const queueSampler = new Poller(() => {
    telemetry.history.sampleQueues(waitingPerService(registry.snapshot));
    return Promise.resolve();
  }, QUEUE_SAMPLE_INTERVAL);
  queueSampler.start({ wait: true });
  const limitsSync = sharedCounts
    ? new Poller(() => sharedCounts.sync(), deps.config.server["limits-sync-interval"], {
      schedule,
    })
    : undefined;
  limitsSync?.start({ wait: true });
  const idleRelease = deps.memoryTrim
    ? new IdleRelease({
      ...deps.memoryTrim,
      requests: () => ({ inFlight: telemetry.active, finished: finishedRequests(telemetry) }),
      ...(deps.schedule ? { schedule: deps.schedule } : {}),
    })
    : undefined;
  peers?.answerWith(async (question): Promise<Answer> => {
    const worker = peers.worker;
    switch (question.kind) {
      case "metrics":
        return { worker, text: metrics?.render() ?? "" };
      case "config":
        await live.catchUp(question.version);
        return { worker };
      case "act":
        await takeAction(question.action, targets);
        return { worker };
      case "request": {
        const text = requestAnswer(telemetry.recentRequests, question.id);
        return text === undefined ? { worker } : { worker, text };
      }
    }
  });
  return {
    app,
    serve(request, info) {
      if (!isClientApiCall(request)) return app.fetch(request, info);
      return turns.begin((arrived) =>
        app.fetch(
          request,
          arrived === undefined
            ? info
            : { remoteAddr: info.remoteAddr, completed: info.completed, arrived },
        )
      );
    },
    registry,
    telemetry,
    live,
    sharedLimits,
    drain() {
      draining = true;
    },
    stopAttempts: () => attempts.stopAll(),
    async close() {
      ledgerFlush?.stop();
      await ledger?.flush().catch((error) => logError("Could not store the usage", error));
      limitsSync?.stop();
      // The use made since the last sync counts for the others still running.
      await sharedCounts?.sync();
      await deps.counters?.close();
      idleRelease?.close();
      queueSampler.stop();
      monitor.stop();
      live.stop();
      await keyWatcher.stop();
      await limiterSnapshots.stop();
      bodyIdle?.close();
      await transport.close();
    },
  };
}

/**
 * Puts back the limiters saved before a restart, then saves them every `interval` ms and once
 * more when stopped, so a restart hands no client a fresh quota. Saves run one at a time: two
 * at once could leave the chunks of an older one behind.
 */
async function keepLimiterSnapshots(limits: RateLimits, options: {
  readonly store: LimiterSnapshotStore;
  readonly interval: number;
  readonly now: () => number;
  readonly schedule: Schedule;
  readonly log: (message: string) => void;
  readonly logError: (message: string, error: unknown) => void;
}): Promise<{ stop(): Promise<void> }> {
  const persistence = new LimiterPersistence(options.store);
  const restored = await persistence.restore(limits, options.now());
  if (restored > 0) options.log(`Restored ${restored} rate limiters saved before the restart`);
  let saving: Promise<void> = Promise.resolve();
  const save = () =>
    saving = saving.then(() => persistence.save(limits, options.now())).then(
      () => {},
      (error) => options.logError("Could not save rate limiters", error),
    );
  // Nothing changed since the restore: the first save is one interval away.
  const timer = new Poller(save, options.interval, { schedule: options.schedule });
  timer.start({ wait: true });
  return {
    async stop() {
      timer.stop();
      await save();
    },
  };
}

/**
 * The proxy's observer with OpenTelemetry spans, imported only when tracing is on: loading the
 * OpenTelemetry API costs a gateway that does not trace 0.7 MiB of resident memory.
 */
async function tracedObserver(): Promise<(record: RequestRecord) => ProxyObserver> {
  const { TracedRequest } = await import("./tracing/traced_request.ts");
  return (record) => new TracedRequest(record);
}

/** Client requests finished so far, over every service. */
function finishedRequests(telemetry: Telemetry): number {
  let finished = 0;
  for (const traffic of telemetry.traffic.values()) finished += traffic.requests;
  return finished;
}

/** Whether `host` only takes connections from this machine. */
function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `1 key`, `2 keys`. */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** `vllm http://gpu-1:8000`. */
function describe(backend: MonitoredBackend): string {
  return `${backend.target.adapter.name} ${backend.target.baseUrl}`;
}

function healthChange(backend: MonitoredBackend): string {
  const { status, reason } = backend.state.health;
  return `Backend ${describe(backend)} is ${status}: ${reason}`;
}
