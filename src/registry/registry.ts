import type { ModelConfig } from "../config/schema.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";
import { type InstanceState, newInstanceState } from "./state.ts";

/** Options for {@linkcode Registry}. */
export interface RegistryOptions {
  /** Randomness for the `random` strategy. @default Math.random */
  readonly random?: () => number;
}

/**
 * The one place live state lives: the current {@linkcode Snapshot} of the config, and each
 * instance's counters by id. Applying a new config swaps the snapshot; requests already under
 * way keep the one they started with, and instances that remain keep their state.
 */
export class Registry {
  readonly #states = new Map<string, InstanceState>();
  readonly #options: RegistryOptions;
  #snapshot: Snapshot;

  constructor(model: ModelConfig, options: RegistryOptions = {}) {
    this.#options = options;
    this.#snapshot = this.#build(model);
  }

  /** The snapshot new requests use. */
  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Builds and installs a snapshot for a new config; forgets instances no longer in it. */
  apply(model: ModelConfig): Snapshot {
    const snapshot = this.#build(model);
    const live = new Set(
      Object.values(snapshot.services).flatMap((service) => service.upstreams.map((u) => u.id)),
    );
    for (const id of this.#states.keys()) if (!live.has(id)) this.#states.delete(id);
    this.#snapshot = snapshot;
    return snapshot;
  }

  #build(model: ModelConfig): Snapshot {
    return buildSnapshot(model, {
      stateOf: (id) => {
        let state = this.#states.get(id);
        if (!state) this.#states.set(id, state = newInstanceState());
        return state;
      },
      ...(this.#options.random ? { random: this.#options.random } : {}),
    });
  }
}
