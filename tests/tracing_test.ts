/**
 * W3C trace context reaches the backends: passed through as the client sent it, or, with
 * Deno's OpenTelemetry on, as a child of the gateway's own spans, which reach the collector.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { deferred, eventually } from "./fixtures/gate.ts";
import { oneService, spawnGateway, startGateway } from "./fixtures/gateway.ts";
import { closedAtScopeEnd } from "./fixtures/disposable.ts";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN = "b7ad6b7169203331";
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

function chat(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
  });
}

Deno.test("without OpenTelemetry, the client's traceparent and tracestate reach the backend", async () => {
  await using backend = await startFakeBackend();
  await using gateway = await startGateway(oneService("chat", [backend.url]));
  const response = await chat(gateway.url, { traceparent: TRACEPARENT, tracestate: "vendor=1" });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const seen = backend.requests[0]!.headers;
  assert.equal(seen.get("traceparent"), TRACEPARENT);
  assert.equal(seen.get("tracestate"), "vendor=1");
});

/** One OTLP/HTTP JSON span, as far as the test reads it. */
interface OtlpSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly attributes: readonly { key: string; value: Record<string, unknown> }[];
}

/** A fake OpenTelemetry collector on loopback. */
interface Collector extends AsyncDisposable {
  readonly url: string;
  /** Every span received. */
  readonly spans: OtlpSpan[];
  close(): Promise<void>;
}

/** A fake OpenTelemetry collector on loopback that keeps every span it receives. */
function startCollector(): Collector {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.json();
    if (new URL(request.url).pathname === "/v1/traces") {
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans);
      }
    }
    return Response.json({});
  });
  return closedAtScopeEnd<Collector>({
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    spans,
    close: () => server.shutdown(),
  });
}

function attribute(span: OtlpSpan, key: string): unknown {
  const found = span.attributes.find((attribute) => attribute.key === key);
  return found ? Object.values(found.value)[0] : undefined;
}

Deno.test("with OTEL_DENO=true, backends get a child traceparent and the spans reach the collector", async () => {
  await using backend = await startFakeBackend();
  await using collector = startCollector();
  const dir = await Deno.makeTempDir();
  try {
    const configPath = `${dir}/gateway.yaml`;
    await Deno.writeTextFile(configPath, oneService("chat", [backend.url]));
    await using gateway = await spawnGateway(["--config", configPath], {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: "switchyard-test",
      OTEL_DENO_CONSOLE: "ignore",
    });

    const traced = await chat(gateway.url, { traceparent: TRACEPARENT, tracestate: "vendor=1" });
    assert.equal(traced.status, 200);
    await traced.body?.cancel();
    const continued = TRACEPARENT_FORMAT.exec(backend.requests[0]!.headers.get("traceparent")!);
    assert.ok(continued, "exactly one well-formed traceparent");
    assert.equal(continued[1], TRACE_ID, "the client's trace goes on");
    assert.notEqual(continued[2], CLIENT_SPAN, "under the gateway's span, not the client's");

    const untraced = await chat(gateway.url);
    await untraced.body?.cancel();
    const started = TRACEPARENT_FORMAT.exec(backend.requests[1]!.headers.get("traceparent")!);
    assert.ok(started, "a request without trace context starts a trace");
    assert.notEqual(started[1], TRACE_ID);

    // The runtime exports what is left when the gateway shuts down.
    const exited = deferred();
    gateway.exited().then(() => exited.resolve());
    gateway.process.kill("SIGTERM");
    await exited.promise;
    const spans = await eventually(() => {
      const inTrace = collector.spans.filter((span) => span.traceId === TRACE_ID);
      assert.ok(inTrace.some((span) => span.name.startsWith("upstream ")), "an attempt span");
      return Promise.resolve(inTrace);
    }, 5000);
    const server = spans.find((span) => span.kind === 2 && span.parentSpanId === CLIENT_SPAN);
    assert.ok(server, "the request's span continues the client's");
    assert.equal(attribute(server, "gen_ai.request.model"), "m");
    assert.equal(attribute(server, "switchyard.service"), "chat");
    const attemptSpan = spans.find((span) => span.name.startsWith("upstream "))!;
    assert.equal(attemptSpan.parentSpanId, server.spanId, "the attempt is the request's child");
    assert.equal(
      attribute(attemptSpan, "switchyard.instance"),
      `m@${backend.url}/v1/chat/completions`,
    );
    assert.equal(attemptSpan.kind, 3, "the attempt is a client span");
    assert.equal(continued[2], attemptSpan.spanId, "the backend's parent is the attempt");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
