/**
 * The gateway's own refusals, and the one OpenAI-shaped error response they become.
 * @module
 */

/** OpenAI's error `type` values the gateway uses. */
export type ErrorType =
  | "invalid_request_error"
  | "not_found_error"
  | "requests"
  | "tokens"
  | "upstream_error"
  | "server_error";

/** Options for {@linkcode GatewayError}. */
export interface GatewayErrorOptions {
  /** The request field at fault, e.g. `model`. */
  readonly param?: string;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** A request the gateway refuses itself, carrying the status and OpenAI error fields. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: GatewayErrorOptions & { readonly type?: ErrorType } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "GatewayError";
    this.status = status;
    this.code = code;
    this.type = options.type ?? defaultType(status);
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }
}

/** What a client is told of a bug in the gateway; the details go to the log only. */
export function internalError(): GatewayError {
  return new GatewayError(500, "internal_error", "The gateway failed unexpectedly");
}

function defaultType(status: number): ErrorType {
  if (status === 404) return "not_found_error";
  if (status >= 500) return status === 500 ? "server_error" : "upstream_error";
  return "invalid_request_error";
}

/** The JSON body of an OpenAI-shaped error. */
export interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: ErrorType;
    readonly param: string | null;
    readonly code: string;
  };
}

/** Renders an error as OpenAI's `{"error": {...}}` response. */
export function errorResponse(error: GatewayError): Response {
  const body: ErrorBody = {
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { ...error.headers, "content-type": "application/json" },
  });
}

/**
 * How the gateway's own errors read in one API: as a response, and as the SSE event that ends
 * a stream the gateway had to cut. OpenAI's shape unless a route speaks another API.
 */
export interface ErrorDialect {
  response(error: GatewayError): Response;
  /** The event, a blank line first to end any event the backend left half-written. */
  streamEvent(error: GatewayError): Uint8Array;
}

const encoder = new TextEncoder();

/** OpenAI's error shape, on every route of the OpenAI API. */
export const OPENAI_ERRORS: ErrorDialect = {
  response: errorResponse,
  streamEvent(error) {
    const body: ErrorBody = {
      error: { message: error.message, type: error.type, param: error.param, code: error.code },
    };
    return encoder.encode(`\n\nevent: error\ndata: ${JSON.stringify(body)}\n\n`);
  },
};
