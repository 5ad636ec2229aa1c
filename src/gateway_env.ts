import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AdminRole } from "./admin/roles.ts";
import type { ClientIdentity } from "./auth/authenticator.ts";
import type { Origin } from "./net/forwarding.ts";
import type { ProxyObserver } from "./observe/proxy_observer.ts";
import type { RequestRecord } from "./observe/request_record.ts";

/** What `Deno.serve` (or any server) tells the app about the connection. */
export interface ConnectionInfo {
  readonly remoteAddr?: { readonly hostname?: string };
  /** Settles once the response has been delivered, or failed to be (`Deno.serve` gives it). */
  readonly completed?: Promise<void>;
  /**
   * When the request arrived, by `performance.now()`, if it waited for its turn before the app
   * saw it (`Gateway.serve`); otherwise it arrived just now.
   */
  readonly arrived?: number;
}

/** The Hono environment of the gateway app. */
export interface GatewayEnv {
  Bindings: ConnectionInfo;
  Variables: {
    requestId: string;
    /** The authenticated client, when `auth.enabled`. */
    identity?: ClientIdentity;
    /** The admin key id of an admin request. */
    admin?: string;
    /** The role of that admin key. */
    adminRole?: AdminRole;
    /** Where a `/v1` service request comes from. */
    origin?: Origin;
    /** What is observed of a `/v1` service request. */
    record?: RequestRecord;
    /** What the proxy reports a `/v1` service request's way to: the record, traced or not. */
    observer?: ProxyObserver;
  };
}

/** The gateway's app type, as route modules receive it. */
export type GatewayApp = OpenAPIHono<GatewayEnv>;
