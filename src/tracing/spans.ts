/**
 * Spans through Deno's built-in OpenTelemetry (`OTEL_DENO=true`). The runtime makes the
 * request's server span and a client span per `fetch`, and carries the W3C trace context in
 * and out; the gateway names what the request was for on the server span, and wraps each
 * upstream attempt in a span of its own, so retries show as siblings under the request.
 *
 * When tracing is off, none of this is called.
 * @module
 */
import { type Attributes, context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("switchyard");

/** Adds `attributes` to the span of the request being served, and returns its trace id. */
export function annotateRequest(attributes: Attributes): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  span.setAttributes(attributes);
  return span.spanContext().traceId;
}

/** A span for one upstream attempt, a child of the request's. */
export function startAttemptSpan(instance: string, attributes: Attributes): Span {
  return tracer.startSpan(`upstream ${instance}`, { attributes });
}

/** Runs `fn` with `span` active, so the runtime's `fetch` span becomes its child. */
export function withinSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Ends an attempt's span with how it went: an HTTP status, or the error that stopped it. */
export function endAttemptSpan(span: Span, outcome: number | string): void {
  if (typeof outcome === "number") {
    span.setAttribute("http.response.status_code", outcome);
    if (outcome >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  } else {
    span.setAttribute("error.type", outcome);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  }
  span.end();
}
