/**
 * The Anthropic Messages API: `POST /v1/messages` and `POST /v1/messages/count_tokens`, served
 * by the chat models (or a `messages` service of its own), with Anthropic's error shape for
 * everything the gateway answers itself.
 * @module
 */
import type { ErrorDialect } from "../errors.ts";
import { OPENAI_ERRORS } from "../errors.ts";
import type { GatewayApp } from "../gateway_env.ts";
import type { ProxyDeps } from "../proxy/forward.ts";
import { proxyRoute } from "./proxy_route.ts";
import { SERVICE_ENDPOINTS } from "../services.ts";
import { ANTHROPIC_ERRORS } from "../translate/messages/errors.ts";
import {
  CountTokensRequest,
  ErrorBodySchema,
  MessagesRequest,
} from "../translate/messages/types.ts";
import { routedPath } from "./api_prefix.ts";

/** `POST /v1/messages`. */
export const MESSAGES_PATH = SERVICE_ENDPOINTS.messages.path;
/** `POST /v1/messages/count_tokens`. */
export const COUNT_TOKENS_PATH = `${MESSAGES_PATH}/count_tokens`;

/** The error shape of the API a request's path belongs to. */
export function errorsFor(request: Request): ErrorDialect {
  const path = routedPath(request);
  return path === MESSAGES_PATH || path === COUNT_TOKENS_PATH ? ANTHROPIC_ERRORS : OPENAI_ERRORS;
}

const errorContent = { "application/json": { schema: ErrorBodySchema } };
const ERROR_RESPONSES = {
  400: {
    description: "invalid_request_error: bad JSON, no model, or (for a model served by chat " +
      "completions) a field that cannot be translated, named in the message",
    content: errorContent,
  },
  401: {
    description: "authentication_error: no valid x-api-key or bearer token",
    content: errorContent,
  },
  403: { description: "permission_error: the key may not use the model", content: errorContent },
  404: { description: "not_found_error: unknown model", content: errorContent },
  413: { description: "request_too_large", content: errorContent },
  429: { description: "rate_limit_error (see Retry-After)", content: errorContent },
  500: { description: "api_error: the backend failed", content: errorContent },
  503: { description: "overloaded_error: no instance available", content: errorContent },
} as const;

/** Mounts the Messages routes. */
export function mountMessagesRoutes(app: GatewayApp, deps: ProxyDeps): void {
  const documented = [
    {
      path: MESSAGES_PATH,
      summary: "Anthropic Messages",
      schema: MessagesRequest,
      answer: "A Message; `text/event-stream` of Anthropic's events when `stream` is true",
      operation: undefined,
    },
    {
      path: COUNT_TOKENS_PATH,
      summary: "Anthropic Messages token count",
      schema: CountTokensRequest,
      answer: '`{"input_tokens": n}`, from a backend that serves the Messages API itself',
      operation: "count_tokens" as const,
    },
  ];
  for (const route of documented) {
    app.openAPIRegistry.registerPath({
      method: "post",
      path: route.path,
      tags: ["Anthropic API"],
      summary: route.summary,
      description: "Passed through byte for byte to instances whose backend serves the Messages " +
        "API (Ollama, vLLM, llama.cpp, Anthropic); translated to chat completions for the others, which take the " +
        "fields below and refuse any other by name. Clients authenticate with `x-api-key` or " +
        "`Authorization: Bearer`.",
      request: {
        body: { required: true, content: { "application/json": { schema: route.schema } } },
      },
      responses: { 200: { description: route.answer }, ...ERROR_RESPONSES },
    });
    app.post(
      route.path,
      proxyRoute(
        { service: "messages", errors: ANTHROPIC_ERRORS, operation: route.operation },
        deps,
      ),
    );
  }
}
