import type { OpenAPIHono } from "@hono/zod-openapi";

/** What `Deno.serve` (or any server) tells the app about the connection. */
export interface ConnectionInfo {
  readonly remoteAddr?: { readonly hostname?: string };
}

/** The Hono environment of the gateway app. */
export interface GatewayEnv {
  Bindings: ConnectionInfo;
  Variables: { requestId: string };
}

/** The gateway's app type, as route modules receive it. */
export type GatewayApp = OpenAPIHono<GatewayEnv>;
