import type { ModelConfig } from "../config/schema.ts";
import { type BackendState, newBackendState } from "../health/backend_state.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";
import { type InstanceState, newInstanceState } from "./state.ts";

/** Options for {@linkcode Registry}. */
export interface RegistryOptions {
  /** Randomness for the `random` strategy. @default Math.random */
  readonly random?: () => number;
}

/**
 * The one place live state lives: the current {@linkcode Snapshot} of the config, each
 * instance's counters by id and each backend's health, models and load by key. Applying a new
 * config swaps the snapshot; requests already under way keep the one they started with, and
 * instances and backends that remain keep their state.
 */
export class Registry {
  readonly #states = new Map<string, InstanceState>();
  readonly #backends = new Map<string, BackendState>();
  readonly #options: RegistryOptions;
  readonly #listeners = new Set<(snapshot: Snapshot) => void>();
  #model: ModelConfig;
  #snapshot: Snapshot;

  constructor(model: ModelConfig, options: RegistryOptions = {}) {
    this.#options = options;
    this.#model = model;
    this.#snapshot = this.#build(model);
  }

  /** The snapshot new requests use. */
  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Builds and installs a snapshot for a new config; forgets what is no longer in it. */
  apply(model: ModelConfig): Snapshot {
    this.#model = model;
    return this.refresh();
  }

  /** Rebuilds the snapshot from the current config, e.g. after a backend listed other models. */
  refresh(): Snapshot {
    const snapshot = this.#build(this.#model);
    const upstreams = Object.values(snapshot.services).flatMap((service) => service.upstreams);
    const ids = new Set(upstreams.map((upstream) => upstream.id));
    for (const id of this.#states.keys()) if (!ids.has(id)) this.#states.delete(id);
    const keys = new Set(snapshot.backends.map((backend) => backend.state.key));
    for (const key of this.#backends.keys()) if (!keys.has(key)) this.#backends.delete(key);
    this.#snapshot = snapshot;
    for (const listener of this.#listeners) listener(snapshot);
    return snapshot;
  }

  /** Calls `listener` with every new snapshot; returns a function that stops it. */
  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #build(model: ModelConfig): Snapshot {
    return buildSnapshot(model, {
      stateOf: (id) => {
        let state = this.#states.get(id);
        if (!state) this.#states.set(id, state = newInstanceState());
        return state;
      },
      backendOf: (key) => {
        let backend = this.#backends.get(key);
        if (!backend) this.#backends.set(key, backend = newBackendState(key));
        return backend;
      },
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
  }
}
