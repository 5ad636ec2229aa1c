import type { ModelConfig, ModelGroupsConfig } from "../config/schema.ts";
import type { JsonObject } from "../lib/json.ts";
import { type BreakerListener, LiveState } from "./live_state.ts";
import type { AddressCheck } from "../net/address_policy.ts";
import { fileBaseUrls } from "./file_urls.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";

/** Options for {@linkcode Registry}. */
export interface RegistryOptions {
  /** Randomness for the `random` strategy. @default Math.random */
  readonly random?: () => number;
  /** Clock in ms: the age of load readings and of measurements. @default Date.now */
  readonly now?: () => number;
  /** `model-groups`, from the config file. @default none */
  readonly groups?: ModelGroupsConfig;
  /** `server.retries`: the retry count where no `retry` section sets one. @default 2 */
  readonly retries?: number;
  /** Told when an instance's circuit breaker changes state. */
  readonly onBreakerTransition?: BreakerListener;
  /**
   * The check of the addresses connected to for an instance whose base URL the config file
   * does not name (one added through the admin API). @default none: every address trusted
   */
  readonly addressCheck?: AddressCheck;
}

/**
 * The one place live state lives: the current {@linkcode Snapshot} of the config, and the
 * {@linkcode LiveState} behind it — instance counters and breakers, backend health, limiters,
 * caches and waiting lines. Applying a new config swaps the snapshot; requests already under
 * way keep the one they started with, and whatever remains keeps its state.
 */
export class Registry {
  readonly #live: LiveState;
  readonly #options: RegistryOptions;
  readonly #listeners = new Set<(snapshot: Snapshot) => void>();
  #model: ModelConfig;
  /** The base URLs of the file the current config was built from. */
  #fileUrls: ReadonlySet<string>;
  #snapshot: Snapshot;

  /** `model` is the config file's: every instance in it is the operator's own. */
  constructor(model: ModelConfig, options: RegistryOptions = {}) {
    this.#options = options;
    this.#live = new LiveState(
      options.onBreakerTransition ? { onBreakerTransition: options.onBreakerTransition } : {},
    );
    this.#model = model;
    this.#fileUrls = fileBaseUrls(model);
    this.#snapshot = this.#build(model);
  }

  /** The snapshot new requests use. */
  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** The live state behind the snapshots, e.g. to save and restore limiters. */
  get live(): LiveState {
    return this.#live;
  }

  /**
   * Builds and installs a snapshot for a new config; forgets what is no longer in it. `file` is
   * the config file's `model:` section it was built from. @default the config itself
   */
  apply(model: ModelConfig, file: JsonObject | ModelConfig = model): Snapshot {
    this.#model = model;
    this.#fileUrls = fileBaseUrls(file);
    return this.refresh();
  }

  /** Rebuilds the snapshot from the current config, e.g. after a backend listed other models. */
  refresh(): Snapshot {
    const snapshot = this.#build(this.#model);
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
    return this.#live.build(() =>
      buildSnapshot(model, {
        live: this.#live,
        retries: this.#options.retries ?? 2,
        ...(this.#options.addressCheck
          ? { runtimeInstances: { fileUrls: this.#fileUrls, check: this.#options.addressCheck } }
          : {}),
        ...(this.#options.random ? { random: this.#options.random } : {}),
        ...(this.#options.now ? { now: this.#options.now } : {}),
        ...(this.#options.groups ? { groups: this.#options.groups } : {}),
      })
    );
  }
}
