import type { ServiceType } from "../services.ts";

/** What the gateway knows about one kind of backend. */
export interface Adapter {
  /** The name used in the config's `adapter:` keys. */
  readonly name: string;
  /**
   * The path of each service on this backend, used when an instance gives no `path`.
   * A service missing here has no default: instances must set `path` to use it.
   */
  readonly defaultPaths: Readonly<Partial<Record<ServiceType, string>>>;
}
