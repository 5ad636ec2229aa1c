/**
 * Whatever throws between claiming an instance and the end of the relay, the instance's count
 * in flight, its breaker's probe slot and the requests queued for it come back as they were.
 */
import assert from "node:assert/strict";
import { manualClock } from "../../../tests/fixtures/clock.ts";
import { parseConfig } from "../../config/load.ts";
import { OPENAI_ERRORS } from "../../errors.ts";
import type { ProxyObserver } from "../../observe/proxy_observer.ts";
import { Telemetry } from "../../observe/telemetry.ts";
import { Registry } from "../../registry/registry.ts";
import type { Transport } from "../../transport/transport.ts";
import { UpstreamAnswer } from "../../transport/upstream_answer.ts";
import type { Exchange } from "../exchange.ts";
import { attempt, type Failure } from "./attempt.ts";
import { UpstreamLease } from "./lease.ts";
import { QueueTicket } from "../../queue/wait_queue.ts";

const CONFIG = `
server:
  retries: 0
  timeouts:
    first-byte: 0
    idle: 0
model:
  circuit-breaker:
    failureThreshold: 1
    successThreshold: 1
    timeout: 1000
  services:
    chat:
      max-concurrency: 1
      instances:
        - name: m
          base-url: http://127.0.0.1:9
`;

const encoder = new TextEncoder();

/** A body that sends `chunks`, then ends or breaks off. */
function streamOf(chunks: string[], options: { breaks?: boolean } = {}) {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next !== undefined) controller.enqueue(encoder.encode(next));
      else if (options.breaks) controller.error(new Error("connection reset"));
      else controller.close();
    },
  });
}

const SSE: [string, string][] = [["content-type", "text/event-stream"]];
const JSON_2: [string, string][] = [["content-type", "application/json"], [
  "content-length",
  "2",
]];

/** What can go wrong, and where. */
interface Fault {
  /** The transport's answer, or its failure. */
  send?: () => Promise<UpstreamAnswer>;
  /** The translation of the answer. */
  translate?: (answer: UpstreamAnswer) => Promise<UpstreamAnswer>;
  /** Breaks the request's record, the way an observer that throws would. */
  spoil?: (record: ProxyObserver) => void;
  /** What the client does with a response: read it all (the default), or leave at once. */
  client?: "read" | "leave";
}

const broken = (what: string) => () => {
  throw new Error(`${what} broke`);
};

/** Makes the record's stream tap throw on every chunk. */
function breakTap(record: ProxyObserver): void {
  const tapOf = record.tap.bind(record);
  record.tap = (kind) => {
    const tap = tapOf(kind);
    tap.chunk = broken("tap");
    return tap;
  };
}

const FAULTS: Record<string, Fault> = {
  "the transport throws before it returns": {
    send: broken("the transport"),
  },
  "the transport rejects": {
    send: () => Promise.reject(new Error("connection reset")),
  },
  "the translation throws": {
    translate: () => Promise.reject(new TypeError("cannot translate")),
  },
  "the record throws on the backend call": {
    spoil: (record) => record.backendCall = broken("backendCall"),
  },
  "the answer's head cannot be passed on": {
    send: () =>
      Promise.resolve(new UpstreamAnswer(200, "OK", [["x-bad", "a\nb"], ...SSE], streamOf([]))),
  },
  "a whole JSON answer breaks off": {
    send: () =>
      Promise.resolve(new UpstreamAnswer(200, "OK", JSON_2, streamOf([], { breaks: true }))),
  },
  "the record throws on a whole answer": {
    send: () => Promise.resolve(new UpstreamAnswer(200, "OK", JSON_2, encoder.encode("{}"))),
    spoil: (record) => record.bodyAnswered = broken("bodyAnswered"),
  },
  "a stream breaks off midway": {
    send: () =>
      Promise.resolve(
        new UpstreamAnswer(200, "OK", SSE, streamOf(["data: a\n\n"], { breaks: true })),
      ),
  },
  "a stream opens with an error event": {
    send: () =>
      Promise.resolve(
        new UpstreamAnswer(200, "OK", SSE, streamOf(['data: {"error":{"message":"busy"}}\n\n'])),
      ),
  },
  "a stream breaks off before its first event": {
    send: () =>
      Promise.resolve(
        new UpstreamAnswer(200, "OK", SSE, streamOf([": ping\n\n"], { breaks: true })),
      ),
  },
  "the stream tap throws on a chunk read before the stream was passed on": {
    send: () =>
      Promise.resolve(new UpstreamAnswer(200, "OK", SSE, streamOf([": ping\n\ndata: a\n\n"]))),
    spoil: breakTap,
  },
  "the stream tap throws on a chunk": {
    spoil: breakTap,
  },
  "the record throws at the stream's end": {
    spoil: (record) => record.tapEnded = broken("tapEnded"),
  },
  "the client leaves mid-stream": {
    client: "leave",
  },
  "a 500 is held back and its body breaks off": {
    send: () =>
      Promise.resolve(new UpstreamAnswer(500, "", SSE, streamOf(["x"], { breaks: true }))),
  },
};

function setup() {
  const clock = manualClock();
  const { config } = parseConfig(CONFIG, { source: "test.yaml" });
  const registry = new Registry(config.model);
  const service = registry.snapshot.services.chat;
  const pool = service.resolve("m")!;
  const upstream = pool.upstreams[0]!;
  // A half-open breaker, whose one probe slot a leaked claim would hold for good.
  const breaker = upstream.breaker!;
  breaker.admit(clock.now());
  breaker.onFailure(clock.now());
  clock.advance(2000);
  assert.equal(breaker.status(clock.now()), "half-open");
  const record = new Telemetry().start({
    service: "chat",
    requestId: "r1",
    method: "POST",
    path: "/v1/chat/completions",
    clientIp: "127.0.0.1",
  });
  return { clock, config, service, pool, upstream, breaker, record };
}

for (const [where, fault] of Object.entries(FAULTS)) {
  Deno.test(`counters settle when ${where}`, async () => {
    const { clock, config, service, pool, upstream, breaker, record } = setup();
    fault.spoil?.(record);
    const transport: Transport = {
      send: fault.send ??
        (() =>
          Promise.resolve(
            new UpstreamAnswer(200, "OK", SSE, streamOf(["data: a\n\n", "data: [DONE]\n\n"])),
          )),
      close: () => Promise.resolve(),
    };
    const exchange: Exchange = {
      body: encoder.encode('{"model":"m","stream":true}'),
      contentType: "application/json",
      streamed: true,
      answer: fault.translate ?? ((answer) => answer),
    };
    // A request waiting for the instance's one slot.
    const waiting = pool.queue!.wait(new QueueTicket({ priority: "normal", lane: "anonymous" }), {
      timeout: 60_000,
      signal: new AbortController().signal,
    });

    let outcome: Response | Failure | undefined;
    try {
      using lease = UpstreamLease.claim(upstream, {
        client: { ip: "127.0.0.1", apiKey: () => "" },
        now: clock.now,
        observer: record,
      })!;
      assert.equal(upstream.state.active, 1);
      outcome = await attempt(lease, {
        exchange,
        headers: new Map(),
        clientRequest: new Request("http://gateway/v1/chat/completions", { method: "POST" }),
        delivered: undefined,
        pattern: false,
        retry: service.retry,
        server: config.server,
        transport,
        now: clock.now,
        record,
        errors: OPENAI_ERRORS,
      });
    } catch {
      // What threw is the gateway's own error; the counters must hold all the same.
    }
    if (outcome instanceof Response && outcome.body) {
      if (fault.client === "leave") {
        const reader = outcome.body.getReader();
        await reader.read();
        await reader.cancel();
      } else {
        await outcome.body.pipeTo(new WritableStream()).catch(() => {});
      }
    }

    assert.equal(upstream.state.active, 0, "nothing stays in flight");
    assert.equal(await waiting, "woken", "the queued request was woken");
    const now = clock.now();
    assert.ok(
      breaker.status(now) !== "half-open" || breaker.canPass(now),
      "the breaker's probe slot is free",
    );
  });
}

Deno.test("a lease moved to the relay is settled by it, and by nothing else", () => {
  const { clock, upstream, record } = setup();
  const claimed = UpstreamLease.claim(upstream, {
    client: { ip: "127.0.0.1", apiKey: () => "" },
    now: clock.now,
    observer: record,
  })!;
  let moved: UpstreamLease;
  {
    using lease = claimed;
    moved = lease.move();
  }
  assert.equal(upstream.state.active, 1, "the moved lease still holds the instance");
  assert.equal(claimed.disposed, true);
  moved[Symbol.dispose]();
  moved[Symbol.dispose]();
  assert.equal(upstream.state.active, 0, "given back once");
});

Deno.test("a cleanup that throws still lets the lease give everything back, then throws", () => {
  const { clock, upstream, breaker, record } = setup();
  const lease = UpstreamLease.claim(upstream, {
    client: { ip: "127.0.0.1", apiKey: () => "" },
    now: clock.now,
    observer: record,
  })!;
  let later = false;
  lease.use({ [Symbol.dispose]: () => later = true });
  lease.use({
    [Symbol.dispose]() {
      throw new Error("cleanup broke");
    },
  });
  assert.throws(() => lease[Symbol.dispose](), /cleanup broke/);
  assert.equal(later, true, "the other cleanups ran");
  assert.equal(upstream.state.active, 0);
  assert.ok(breaker.canPass(clock.now()), "the breaker's probe slot is free");
  assert.throws(() => lease.use({ [Symbol.dispose]() {} }), /already settled or moved/);
});
