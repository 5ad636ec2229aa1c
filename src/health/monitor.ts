/**
 * Watches every backend of the current config: probes its health, reads its model list when an
 * instance discovers models, and reads its load when a `least-load` pool needs it, each on its
 * own interval. {@linkcode BackendMonitor.sync} follows config changes, keeping the pollers of
 * backends whose settings did not change.
 * @module
 */
import type { BackendState } from "./backend_state.ts";
import { type BackendTarget, probeHealth, readLoad, readModelList } from "./backend_requests.ts";
import { recordProbe } from "./health_checks.ts";
import { Poller, realSchedule, type Schedule } from "./poller.ts";
import type { HealthSettings } from "./settings.ts";
import type { Capabilities } from "../config/schema.ts";
import type { Transport } from "../transport/transport.ts";

/** One backend to watch, and how. */
export interface MonitoredBackend {
  readonly target: BackendTarget;
  readonly state: BackendState;
  readonly health: HealthSettings;
  /** ms between model list reads; undefined when no instance discovers models. */
  readonly discoveryInterval: number | undefined;
  /** ms between load reads; undefined when no strategy needs the load. */
  readonly loadInterval: number | undefined;
}

/** Options for {@linkcode BackendMonitor}. */
export interface BackendMonitorOptions {
  /** How the monitor's requests reach backends. */
  readonly transport: Transport;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly schedule?: Schedule;
  /** Called when a backend's model list, or what its models can take, changed. */
  readonly onModelsChanged?: (backend: MonitoredBackend) => void;
  /** Called when a backend went up or down. */
  readonly onHealthChanged?: (backend: MonitoredBackend) => void;
  /** Told of a probe or read that failed unexpectedly: a bug, not a backend's failure. */
  readonly onError?: (message: string, error: unknown) => void;
}

/** What the monitor reads of a backend: its health, its model list, its load. */
export type BackendRead = "health" | "models" | "load";

/** Reading a model list or load may take this long at most. */
const READ_TIMEOUT = 5_000;

/** The pollers of every backend. */
export class BackendMonitor {
  readonly #options: BackendMonitorOptions;
  readonly #watched = new Map<
    string,
    { signature: string; pollers: ReadonlyMap<BackendRead, Poller> }
  >();

  constructor(options: BackendMonitorOptions) {
    this.#options = options;
  }

  /** Watches exactly these backends from now on. */
  sync(backends: readonly MonitoredBackend[]): void {
    const wanted = new Map(backends.map((backend) => [backend.state.key, backend]));
    for (const [key, watched] of this.#watched) {
      const backend = wanted.get(key);
      if (backend && signatureOf(backend) === watched.signature) {
        wanted.delete(key);
        continue;
      }
      for (const poller of watched.pollers.values()) poller.stop();
      this.#watched.delete(key);
    }
    for (const [key, backend] of wanted) {
      const pollers = this.#pollersFor(backend);
      this.#watched.set(key, { signature: signatureOf(backend), pollers });
      for (const poller of pollers.values()) poller.start();
    }
  }

  /** Stops every poller. */
  stop(): void {
    for (const watched of this.#watched.values()) {
      for (const poller of watched.pollers.values()) poller.stop();
    }
    this.#watched.clear();
  }

  /**
   * Makes `reads` of every backend now, where they are made at all (a health probe where health
   * checks are on, a model list where an instance discovers models, a load read where a
   * strategy asks for it), and resolves once they all ended; how many of each were made.
   */
  async refresh(reads: readonly BackendRead[]): Promise<Record<BackendRead, number>> {
    const made: Record<BackendRead, number> = { health: 0, models: 0, load: 0 };
    const runs: Promise<void>[] = [];
    for (const watched of this.#watched.values()) {
      for (const read of reads) {
        const poller = watched.pollers.get(read);
        if (!poller) continue;
        made[read]++;
        runs.push(poller.runNow());
      }
    }
    await Promise.all(runs);
    return made;
  }

  #pollersFor(backend: MonitoredBackend): Map<BackendRead, Poller> {
    const schedule = this.#options.schedule ?? realSchedule;
    const failed = (what: string) => (error: unknown) =>
      this.#options.onError?.(`${what} of backend ${backend.state.key} failed`, error);
    const now = this.#options.now ?? Date.now;
    const transport = this.#options.transport;
    const { target, state, health } = backend;
    const pollers = new Map<BackendRead, Poller>();
    if (health.enabled) {
      pollers.set(
        "health",
        new Poller(
          async () => {
            const result = await probeHealth(target, { timeout: health.timeout, transport });
            if (recordProbe(state.health, result, health, now())) {
              this.#options.onHealthChanged?.(backend);
            }
          },
          health.interval,
          { schedule, onError: failed("The health probe") },
        ),
      );
    }
    if (backend.discoveryInterval !== undefined) {
      pollers.set(
        "models",
        new Poller(
          async () => {
            const at = new Date(now()).toISOString();
            try {
              const { models, capabilities } = await readModelList(target, {
                timeout: READ_TIMEOUT,
                transport,
              });
              // Like the list, what was learned of the models stays when it cannot be read.
              const learned = capabilities ?? state.capabilities;
              const changed = !sameModels(state.models, models) ||
                !sameCapabilities(state.capabilities, learned);
              state.models = models;
              state.capabilities = learned;
              state.modelsReadAt = at;
              state.modelsError = null;
              if (changed) this.#options.onModelsChanged?.(backend);
            } catch (error) {
              // The last list read stays in force: a backend briefly unreachable is the health
              // check's business, and its models have not gone anywhere.
              state.modelsReadAt = at;
              state.modelsError = (error as Error).message;
            }
          },
          backend.discoveryInterval,
          { schedule, onError: failed("The model list read") },
        ),
      );
    }
    if (backend.loadInterval !== undefined && target.adapter.load) {
      pollers.set(
        "load",
        new Poller(
          async () => {
            try {
              const reading = await readLoad(target, { timeout: READ_TIMEOUT, transport });
              const readAt = now();
              state.load = {
                reading,
                loaded: reading.loadedModels ? new Set(reading.loadedModels) : undefined,
                at: new Date(readAt).toISOString(),
                readAt,
              };
            } catch {
              // The last reading stays with its time: the strategy trusts it less as it ages,
              // and not at all once it is old, falling back to its own counts.
            }
          },
          backend.loadInterval,
          { schedule, onError: failed("The load read") },
        ),
      );
    }
    return pollers;
  }
}

/** What a backend's pollers depend on; when it changes they restart. */
function signatureOf(backend: MonitoredBackend): string {
  return JSON.stringify([
    backend.target.baseUrl,
    backend.target.adapter.name,
    backend.target.headers,
    backend.target.addressCheck !== undefined,
    backend.health,
    backend.discoveryInterval,
    backend.loadInterval,
  ]);
}

function sameModels(before: readonly string[] | undefined, after: readonly string[]): boolean {
  if (before === undefined || before.length !== after.length) return false;
  const known = new Set(before);
  return after.every((model) => known.has(model));
}

function sameCapabilities(
  before: ReadonlyMap<string, Capabilities> | undefined,
  after: ReadonlyMap<string, Capabilities> | undefined,
): boolean {
  if (before === undefined || after === undefined) return before === after;
  if (before.size !== after.size) return false;
  for (const [model, capabilities] of after) {
    if (JSON.stringify(before.get(model)) !== JSON.stringify(capabilities)) return false;
  }
  return true;
}
