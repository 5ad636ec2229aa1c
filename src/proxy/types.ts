/**
 * The proxy's contract: what it needs from the gateway, what it is given for each request, and
 * how serving one model ends. The stages import these, never each other's entry points.
 * @module
 */
import type { MeteredTokens, TokenEstimate } from "../limiter/token_limits.ts";
import type { ClientIdentity } from "../auth/authenticator.ts";
import type { ServerConfig } from "../config/schema.ts";
import type { ErrorDialect, GatewayError } from "../errors.ts";
import type { LimitedClient, Metered } from "../limiter/admission.ts";
import type { ProxyObserver } from "../observe/proxy_observer.ts";
import type { Registry } from "../registry/registry.ts";
import type { ServiceRuntime } from "../registry/snapshot.ts";
import type { ServiceType } from "../services.ts";
import type { Transport } from "../transport/transport.ts";
import type { AttemptsInFlight } from "./attempt/attempts_in_flight.ts";
import type { BodyIdleWatch } from "./request/body_idle_watch.ts";
import type { RequestNeeds } from "./request/needs.ts";
import type { UpstreamHeaders } from "./request/upstream_headers.ts";
import type { QueuePlace } from "../queue/priority.ts";
import type { QueueVisit } from "../queue/queue_visit.ts";
import type { UsageLedger } from "../budget/ledger.ts";

/** What the proxy needs from the rest of the gateway. */
export interface ProxyDeps {
  readonly registry: Registry;
  readonly server: ServerConfig;
  /** How requests reach instances. */
  readonly transport: Transport;
  /** Where attempts are tracked, to be stopped when the gateway stops. @default untracked */
  readonly attempts?: AttemptsInFlight | undefined;
  /** Cuts request bodies that stop arriving. @default none */
  readonly bodyIdle?: BodyIdleWatch | undefined;
  /** Clock for limits, breakers and ejections, in ms. @default Date.now */
  readonly now?: () => number;
  /** Randomness for retry backoff jitter. @default Math.random */
  readonly random?: () => number;
  /** What keys and teams used, for their budgets; none without client authentication. */
  readonly ledger?: UsageLedger | undefined;
}

/** One client request to forward. */
export interface ProxyRequest {
  readonly service: ServiceType;
  readonly request: Request;
  /** The client's address: the peer's, or one a trusted proxy named. */
  readonly clientIp: string;
  /** The `X-Forwarded-For` to send upstream. */
  readonly forwardedFor: string;
  readonly requestId: string;
  /** The client, when the gateway checks credentials. */
  readonly identity?: ClientIdentity | undefined;
  /**
   * Settles once the response has been delivered to the client, when the server can say so.
   * It lets a non-streamed body be handed to the server as it is instead of through the relay.
   */
  readonly delivered?: Promise<void> | undefined;
  /** What is observed of the request, for metrics and the log. */
  readonly record: ProxyObserver;
  /** How the client's API words the gateway's errors. @default OpenAI's shape */
  readonly errors?: ErrorDialect | undefined;
  /**
   * `count_tokens`: the Messages request is a token count, sent to each instance's counting
   * endpoint. @default an ordinary request to the service
   */
  readonly operation?: "count_tokens" | undefined;
}

/** How serving a model ended. */
export type ModelOutcome =
  | {
    readonly kind: "answered";
    /** The instance token limit with the fewest tokens left, when the instance has one. */
    readonly meteredTokens?: MeteredTokens | undefined;
    readonly response: Response;
    /** The instance limit with the least budget left, if the instance has limits. */
    readonly metered: Metered | undefined;
  }
  /** Limits or the queue turned the request away: no fallback applies. */
  | { readonly kind: "refused"; readonly error: GatewayError }
  /** Every instance failed or is out: a fallback may answer instead. */
  | {
    readonly kind: "failed";
    readonly error: GatewayError;
    /** The last backend error response, kept to pass on when no fallback answers. */
    readonly answered: Response | undefined;
  }
  | { readonly kind: "client-gone" };

/** What every attempt at a model shares. */
export interface ModelRequest {
  readonly request: ProxyRequest;
  readonly deps: ProxyDeps;
  readonly service: ServiceRuntime;
  readonly client: LimitedClient;
  /** Upstream headers for `body`, before each instance adds its own. */
  readonly base: UpstreamHeaders;
  /** What the request needs of an instance, read from its body the first time it is asked. */
  readonly needs: () => RequestNeeds;
  /** Its class and lane in a model's queue. */
  readonly place: QueuePlace;
  /** Its time in a model's queue, as it is spent. */
  readonly visit: QueueVisit;
  /**
   * Token limits or the usage ledger count its tokens: a stream asks its backend for `usage`.
   */
  readonly countsTokens: boolean;
  /** Its tokens as estimated before it is sent, made the first time it is asked. */
  readonly tokenEstimate: () => TokenEstimate;
  /**
   * The request counts against a budget: stores what it used (never rejects), which the end of
   * its answer waits for.
   */
  readonly storeUse?: (() => Promise<void>) | undefined;
}
