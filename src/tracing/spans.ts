/**
 * Spans through Deno's built-in OpenTelemetry (`OTEL_DENO=true`). The runtime makes the
 * request's server span and reads the client's W3C trace context; the gateway names what the
 * request was for on the server span, and makes a client span for each upstream attempt, whose
 * context the backend gets, so retries show as siblings under the request.
 *
 * When tracing is off, none of this is called.
 * @module
 */
import {
  type Attributes,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";

const tracer = trace.getTracer("switchyard");

/** Adds `attributes` to the span of the request being served, and returns its trace id. */
export function annotateRequest(attributes: Attributes): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  span.setAttributes(attributes);
  return span.spanContext().traceId;
}

/** A client span for one upstream attempt, a child of the request's. */
export function startAttemptSpan(instance: string, attributes: Attributes): Span {
  return tracer.startSpan(`upstream ${instance}`, { attributes, kind: SpanKind.CLIENT });
}

/**
 * The W3C trace context (`traceparent`, and `tracestate` when there is one) that makes the
 * backend's spans children of `span`.
 */
export function traceContextHeaders(span: Span): [string, string][] {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const sampled = traceFlags & TraceFlags.SAMPLED ? "01" : "00";
  const headers: [string, string][] = [["traceparent", `00-${traceId}-${spanId}-${sampled}`]];
  const state = traceState?.serialize();
  if (state) headers.push(["tracestate", state]);
  return headers;
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
