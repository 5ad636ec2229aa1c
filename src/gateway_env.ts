import type { OpenAPIHono } from "@hono/zod-openapi";

/** What `Deno.serve` (or any server) tells the app about the connection. */
export interface ConnectionInfo {
  readonly remoteAddr?: { readonly hostname?: string };
  /** Settles once the response has been delivered, or failed to be (`Deno.serve` gives it). */
  readonly completed?: Promise<void>;
}

/** The Hono environment of the gateway app. */
export interface GatewayEnv {
  Bindings: ConnectionInfo;
  Variables: { requestId: string };
}

/** The gateway's app type, as route modules receive it. */
export type GatewayApp = OpenAPIHono<GatewayEnv>;
