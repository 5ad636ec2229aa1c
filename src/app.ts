/**
 * The gateway as a function of its dependencies: no I/O at import, no globals, so tests build
 * it with fake backends and `main.ts` serves it.
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "./config/schema.ts";
import { errorResponse, GatewayError } from "./errors.ts";
import type { GatewayApp, GatewayEnv } from "./gateway_env.ts";
import type { Fetch } from "./health/backend_requests.ts";
import { BackendMonitor, type MonitoredBackend } from "./health/monitor.ts";
import type { Schedule } from "./health/poller.ts";
import { requestId } from "./middleware/request_id.ts";
import type { ReachabilityCheck } from "./proxy/forward.ts";
import { Registry } from "./registry/registry.ts";
import { mountDocsRoutes } from "./routes/docs.ts";
import { mountHealthRoutes } from "./routes/health.ts";
import { mountOpenAiRoutes } from "./routes/openai.ts";
import { mountStatusRoutes } from "./routes/status.ts";

/** What the gateway is built from. */
export interface GatewayDeps {
  readonly config: Config;
  /** Checks a backend accepts connections; see {@linkcode ReachabilityCheck}. */
  readonly reachable: ReachabilityCheck;
  /** The version shown in the OpenAPI document. */
  readonly version: string;
  /** Randomness for the `random` strategy. @default Math.random */
  readonly random?: () => number;
  /** Logs an unexpected error. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
  /** Logs a backend going up or down, or listing other models. @default console.log */
  readonly log?: (message: string) => void;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** Schedules health probes and other polls. @default setTimeout */
  readonly schedule?: Schedule;
  /** The gateway's own requests to backends (probes, model lists, load). @default fetch */
  readonly fetch?: Fetch;
}

/** A built gateway: its request handler and the state behind it. */
export interface Gateway {
  readonly app: GatewayApp;
  readonly registry: Registry;
  /** Makes `/ready` answer 503, for the shutdown grace period. */
  drain(): void;
  /** Stops probing and polling backends. */
  close(): void;
}

/** Builds the gateway app. */
export function createGateway(deps: GatewayDeps): Gateway {
  let draining = false;
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  const log = deps.log ?? ((message) => console.log(message));
  const registry = new Registry(deps.config.model, {
    retries: deps.config.server.retries,
    ...(deps.random ? { random: deps.random } : {}),
    onBreakerTransition: (id, from, to) => log(`Circuit breaker of ${id}: ${from} → ${to}`),
  });
  const monitor = new BackendMonitor({
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.schedule ? { schedule: deps.schedule } : {}),
    onHealthChanged: (backend) => log(healthChange(backend)),
    onModelsChanged: (backend) => {
      const count = backend.state.models?.length ?? 0;
      log(`Backend ${describe(backend)} lists ${count} ${count === 1 ? "model" : "models"}`);
      registry.refresh();
    },
  });
  registry.subscribe((snapshot) => monitor.sync(snapshot.backends));
  monitor.sync(registry.snapshot.backends);
  const app: GatewayApp = new OpenAPIHono<GatewayEnv>();

  app.use(requestId());
  mountOpenAiRoutes(app, {
    registry,
    server: deps.config.server,
    reachable: deps.reachable,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    startedAt: new Date(),
  });
  mountStatusRoutes(app, registry, deps.now);
  mountHealthRoutes(app, () => draining);
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
      return errorResponse(
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
    if (error instanceof GatewayError) return errorResponse(error);
    logError(`Unexpected error on ${c.req.method} ${c.req.path}`, error);
    return errorResponse(
      new GatewayError(500, "internal_error", "The gateway failed unexpectedly"),
    );
  });

  return {
    app,
    registry,
    drain() {
      draining = true;
    },
    close() {
      monitor.stop();
    },
  };
}

/** `vllm http://gpu-1:8000`. */
function describe(backend: MonitoredBackend): string {
  return `${backend.target.adapter.name} ${backend.target.baseUrl}`;
}

function healthChange(backend: MonitoredBackend): string {
  const { status, reason } = backend.state.health;
  return `Backend ${describe(backend)} is ${status}: ${reason}`;
}
