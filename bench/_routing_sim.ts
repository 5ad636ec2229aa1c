/**
 * A discrete-event simulation of the gateway routing requests to inference engines, in virtual
 * time: no sleeps, no HTTP, the same numbers for the same seed. The engines are a model of a
 * batching server, not a delay: each runs up to its batch capacity of requests at once, every
 * member slowing as the batch fills, and queues the rest; a request first prefills its prompt
 * (its first token comes at the end of that), then decodes its output. The gateway side is the
 * real thing where it matters: the strategy objects of src/balancer, picking over items that
 * carry the gateway's own requests in flight, the engines' load as a scrape every few seconds
 * reads it, real {@linkcode InstancePerformance} fed with virtual timestamps, and, for an
 * instance with `max-concurrency: auto`, the real {@linkcode AdaptiveConcurrency} limit fed as
 * the gateway feeds it. Requests over every instance's concurrency cap wait in a gateway queue:
 * the real {@linkcode WaitQueue}, bounded and timed out as configured, with each key in a lane
 * of its own (fair) or every request in one lane (first in, first out). A key may have a
 * `max-concurrency` of its own: the real {@linkcode ClientConcurrency}, claimed when a request
 * is sent and given back when it ends, its requests over it waiting in their lane.
 * @module
 */
import { InstancePerformance } from "../src/balancer/performance.ts";
import type { LoadSignals, Strategy, StrategyFactory } from "../src/balancer/types.ts";
import { seededRandom } from "../src/lib/seeded_random.ts";
import {
  AdaptiveConcurrency,
  type ConcurrencyBounds,
  DEFAULT_BOUNDS,
} from "../src/limiter/adaptive_concurrency.ts";
import type { PriorityClass } from "../src/queue/priority.ts";
import { QueueTicket, type Timer, WaitQueue } from "../src/queue/wait_queue.ts";
import { ClientConcurrency, ConcurrencyCap } from "../src/limiter/client_concurrency.ts";

/** How one simulated engine serves. */
export interface EngineSpec {
  readonly name: string;
  /** Prompt tokens prefilled per ms, alone in its batch. */
  readonly prefillPerMs: number;
  /** ms per output token, alone in its batch. */
  readonly msPerToken: number;
  /** Requests run at once; more wait in the engine's own queue. */
  readonly batch: number;
  /**
   * How much each further member of a batch slows every member: with `n` running, each
   * progresses at 1 ÷ (1 + slowdown × (n − 1)) of its speed alone.
   */
  readonly slowdown: number;
  /**
   * The gateway's `max-concurrency` for it; requests over it wait in the gateway's queue.
   * `auto`: the adaptive limit, within {@linkcode DEFAULT_BOUNDS}.
   */
  readonly maxConcurrency: number | "auto";
  /** `weight` in the gateway's config. @default 1 */
  readonly weight?: number;
}

/** A client key offering load at a fixed mean rate. */
export interface ClientSpec {
  readonly key: string;
  /** Requests per second, arriving as a Poisson process. */
  readonly rate: number;
  /** The key's priority class. @default normal */
  readonly priority?: PriorityClass;
  /** The key's `max-concurrency`: its requests in flight at once. @default unlimited */
  readonly maxConcurrency?: number;
}

/** A request as the gateway sees it. */
export interface SimRequest {
  readonly key: string;
  readonly priority: PriorityClass;
  /** Virtual ms of arrival. */
  readonly arrival: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
}

/** What the simulation gives a waiting line to work with. */
export interface LineContext {
  /** Sends `request` to an instance with room; false when none has. */
  readonly send: (request: SimRequest) => boolean;
  /** The line turned `request` away: no room in it, or it waited too long. */
  readonly refuse: (request: SimRequest, why: "full" | "timeout") => void;
  /** Virtual time, in ms. */
  readonly now: () => number;
  /** Virtual timers. */
  readonly timer: Timer;
  /** The cap on `request`'s key's requests in flight, if it has one. */
  readonly concurrencyOf: (request: SimRequest) => ClientConcurrency | undefined;
}

/** Where requests wait at the gateway while every instance is at its concurrency cap. */
export interface WaitingLine {
  /** Takes a request that found no instance with room. */
  push(request: SimRequest): void;
  /** A slot was freed: the next in line tries again. */
  wake(): void;
  readonly length: number;
  /** False while a request's turn has come but the line has not acted on it yet. */
  readonly settled: boolean;
}

/** Makes a waiting line. */
export type LineFactory = (context: LineContext) => WaitingLine;

/** The gateway's queue settings: `queue-size` and `queue-timeout`. */
export interface QueueSettings {
  /** @default 100 */
  readonly size?: number;
  /** ms. @default 30000 */
  readonly timeout?: number;
}

const NEVER = new AbortController().signal;

/**
 * The gateway's own queue ({@linkcode WaitQueue}) as selection uses it: a request waits with
 * the time left of its `queue-timeout`, and one woken that finds no room waits again in its
 * turn. `fair`: each key in a lane of its own and its own class; otherwise every request in one
 * lane of one class, first in, first out.
 */
export function gatewayQueue(fair: boolean, settings: QueueSettings = {}): LineFactory {
  const timeout = settings.timeout ?? 30_000;
  return ({ send, refuse, now, timer, concurrencyOf }) => {
    const queue = new WaitQueue(settings.size ?? 100, { timer, now });
    // Waits begun whose outcome the line has not handled yet.
    let open = 0;
    const wait = (request: SimRequest, ticket: QueueTicket) => {
      open++;
      const deadline = request.arrival + timeout;
      // As selection does: a key with a cap is woken when one of its requests ends.
      const waiting = concurrencyOf(request)?.waitIn(queue);
      queue.wait(ticket, { timeout: Math.max(0, deadline - now()), signal: NEVER }).then(
        (outcome) => {
          open--;
          waiting?.[Symbol.dispose]();
          if (outcome !== "woken") refuse(request, outcome === "full" ? "full" : "timeout");
          else if (!send(request)) wait(request, ticket);
        },
      );
    };
    return {
      push(request) {
        if (!fair && concurrencyOf(request)) {
          // One lane for every key cannot pass over a key at its cap, as the gateway's can.
          throw new RangeError("A key's max-concurrency needs the fair queue");
        }
        const place = fair
          ? { priority: request.priority, lane: request.key }
          : { priority: "normal" as const, lane: "everyone" };
        const concurrency = concurrencyOf(request);
        wait(request, new QueueTicket(place, concurrency && (() => concurrency.hasRoom())));
      },
      wake: () => queue.wake(),
      get length() {
        return queue.length;
      },
      get settled() {
        return open === queue.length;
      },
    };
  };
}

/** First in, first out, as {@linkcode gatewayQueue} with one lane. */
export const fifo = (settings?: QueueSettings): LineFactory => gatewayQueue(false, settings);

/** Fair queuing across keys within priority classes, as the gateway queues. */
export const fair = (settings?: QueueSettings): LineFactory => gatewayQueue(true, settings);

/** One simulation's settings. */
export interface Scenario {
  readonly engines: readonly EngineSpec[];
  readonly clients: readonly ClientSpec[];
  /** Virtual seconds of arrivals. */
  readonly seconds: number;
  /** Requests arriving in the first this many seconds are not counted. */
  readonly warmUpSeconds: number;
  /** Prompt and output lengths, uniform in these ranges. */
  readonly promptTokens: readonly [number, number];
  readonly outputTokens: readonly [number, number];
  /** ms between scrapes of each engine's load (`load-interval`). */
  readonly scrapeMs: number;
  readonly seed: number;
  /** The gateway's waiting line. @default fifo() */
  readonly line?: LineFactory;
}

/** What one request came to. */
export interface Outcome {
  readonly key: string;
  readonly priority: PriorityClass;
  /** The engine that served it; undefined when the gateway's queue turned it away. */
  readonly engine: string | undefined;
  /** Why the queue turned it away (`429 queue_full`, `503 queue_timeout`). */
  readonly refused?: "full" | "timeout";
  /** ms from arrival to the first token, gateway queue included; NaN when refused. */
  readonly ttft: number;
  /** ms from arrival to the last token, or to the refusal. */
  readonly total: number;
  /** ms it waited in the gateway's queue. */
  readonly waited: number;
  readonly counted: boolean;
}

/** What a run measured. */
export interface SimResult {
  readonly outcomes: readonly Outcome[];
  /** Requests that arrived in the counted window, those of them that finished, and refused. */
  readonly arrived: number;
  readonly finished: number;
  readonly refused: number;
  /** Virtual seconds of the counted window. */
  readonly window: number;
  /** The adaptive limit of each instance with `max-concurrency: auto`, at the end. */
  readonly limits: ReadonlyMap<string, number>;
}

/** An engine and the gateway's view of it, as a strategy picks it. */
interface Instance {
  readonly id: string;
  readonly weight: number;
  readonly spec: EngineSpec;
  readonly state: { active: number; readonly performance: InstancePerformance };
  readonly backend: { load: LoadSignals | undefined };
  readonly engine: Engine;
  /** The adaptive limit with `max-concurrency: auto`. */
  readonly concurrency: AdaptiveConcurrency | undefined;
}

/** A request on an engine: its phase and the work left in it, in ms at batch size 1. */
interface Job {
  readonly request: SimRequest;
  readonly instance: Instance;
  readonly sentAt: number;
  /** Its place under its key's cap, given back when it ends. */
  readonly claim: Disposable | undefined;
  phase: "prefill" | "decode";
  left: number;
  firstTokenAt: number;
}

/** A batching engine, advanced lazily: its members all progress at the same speed. */
class Engine {
  readonly running: Job[] = [];
  readonly waiting: Job[] = [];
  #since = 0;
  /** Bumped whenever the next event moves, so that stale events are dropped. */
  epoch = 0;

  constructor(readonly spec: EngineSpec) {}

  speed(): number {
    const n = this.running.length;
    return n === 0 ? 1 : 1 / (1 + this.spec.slowdown * (n - 1));
  }

  /** Brings every member's work left up to `now`. */
  advance(now: number): void {
    const done = (now - this.#since) * this.speed();
    for (const job of this.running) job.left -= done;
    this.#since = now;
  }

  admit(): void {
    while (this.running.length < this.spec.batch && this.waiting.length > 0) {
      this.running.push(this.waiting.shift()!);
    }
  }

  /** When the member nearest to a phase's end reaches it; Infinity with none running. */
  nextEvent(now: number): number {
    let least = Infinity;
    for (const job of this.running) least = Math.min(least, job.left);
    return least === Infinity ? Infinity : now + Math.max(0, least) / this.speed();
  }
}

type Event =
  | {
    readonly at: number;
    readonly seq: number;
    readonly kind: "arrival";
    readonly request: SimRequest;
  }
  | {
    readonly at: number;
    readonly seq: number;
    readonly kind: "engine";
    readonly engine: Engine;
    readonly epoch: number;
  }
  | { readonly at: number; readonly seq: number; readonly kind: "scrape" }
  | {
    readonly at: number;
    readonly seq: number;
    readonly kind: "timer";
    readonly timer: { readonly run: () => void; cancelled: boolean };
  };

/** A binary heap of events by time, then by order of scheduling. */
class Agenda {
  readonly #heap: Event[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(event: Event): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): Event | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
      if (least === i) return top;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** The bounds of an adaptive limit in the simulation: the gateway's defaults. */
const BOUNDS: ConcurrencyBounds = DEFAULT_BOUNDS;

/**
 * Runs `scenario` with the strategy `factory` builds; deterministic for the scenario's seed.
 * Asynchronous only because the gateway's queue hands turns out as promises: no real time
 * passes.
 */
export async function simulate(factory: StrategyFactory, scenario: Scenario): Promise<SimResult> {
  const random = seededRandom(scenario.seed);
  let now = 0;
  let seq = 0;
  const agenda = new Agenda();
  const instances: Instance[] = scenario.engines.map((spec) => ({
    id: spec.name,
    weight: spec.weight ?? 1,
    spec,
    state: { active: 0, performance: new InstancePerformance() },
    backend: { load: undefined },
    engine: new Engine(spec),
    concurrency: spec.maxConcurrency === "auto" ? new AdaptiveConcurrency(BOUNDS) : undefined,
  }));
  const strategy: Strategy<Instance> = factory(instances, {
    random: seededRandom(scenario.seed + 1),
    now: () => now,
  });
  const outcomes: Outcome[] = [];
  const warmUp = scenario.warmUpSeconds * 1000;
  const end = scenario.seconds * 1000;
  let arrived = 0;

  const uniform = ([low, high]: readonly [number, number]) =>
    Math.round(low + random() * (high - low));
  // Each client's arrivals, one scheduled ahead at a time.
  const nextArrival = (client: ClientSpec, after: number) => {
    const at = after - Math.log(1 - random()) * 1000 / client.rate;
    if (at >= end) return;
    const request: SimRequest = {
      key: client.key,
      priority: client.priority ?? "normal",
      arrival: at,
      promptTokens: uniform(scenario.promptTokens),
      outputTokens: Math.max(1, uniform(scenario.outputTokens)),
    };
    agenda.push({ at, seq: seq++, kind: "arrival", request });
  };
  const clientOf = new Map(scenario.clients.map((client) => [client.key, client]));
  // The real caps of the keys that have one, counted and given back as leases do.
  const concurrency = new Map(
    scenario.clients.flatMap((client) =>
      client.maxConcurrency === undefined
        ? []
        : [[client.key, new ClientConcurrency([new ConcurrencyCap(client.maxConcurrency)])]]
    ),
  );
  const concurrencyOf = (request: SimRequest) => concurrency.get(request.key);
  for (const client of scenario.clients) nextArrival(client, 0);
  agenda.push({ at: 0, seq: seq++, kind: "scrape" });

  const reschedule = (engine: Engine) => {
    engine.epoch++;
    const at = engine.nextEvent(now);
    if (at !== Infinity) {
      agenda.push({ at, seq: seq++, kind: "engine", engine, epoch: engine.epoch });
    }
  };
  const hasRoom = (instance: Instance) =>
    instance.state.active <
      (instance.concurrency?.limit ?? (instance.spec.maxConcurrency as number));
  const send = (request: SimRequest): boolean => {
    const caps = concurrencyOf(request);
    if (caps && !caps.hasRoom()) return false;
    const instance = strategy.pick({ clientIp: request.key }, hasRoom);
    if (instance === undefined) return false;
    instance.state.active++;
    const claim = caps?.claim();
    const { engine, spec } = instance;
    engine.advance(now);
    engine.waiting.push({
      request,
      instance,
      sentAt: now,
      claim,
      phase: "prefill",
      left: request.promptTokens / spec.prefillPerMs,
      firstTokenAt: 0,
    });
    engine.admit();
    reschedule(engine);
    return true;
  };
  const line = (scenario.line ?? fifo())({
    send,
    refuse(request, why) {
      outcomes.push({
        key: request.key,
        priority: request.priority,
        engine: undefined,
        refused: why,
        ttft: NaN,
        total: now - request.arrival,
        waited: now - request.arrival,
        counted: request.arrival >= warmUp,
      });
    },
    now: () => now,
    concurrencyOf,
    timer(run, ms) {
      const timer = { run, cancelled: false };
      agenda.push({ at: now + ms, seq: seq++, kind: "timer", timer });
      return () => void (timer.cancelled = true);
    },
  });
  const finish = (job: Job) => {
    const { instance, request } = job;
    instance.state.active--;
    const performance = instance.state.performance;
    performance.outcome(true, now);
    performance.generated(request.outputTokens - 1, now - job.firstTokenAt, now);
    outcomes.push({
      key: request.key,
      priority: request.priority,
      engine: instance.id,
      ttft: job.firstTokenAt - request.arrival,
      total: now - request.arrival,
      waited: job.sentAt - request.arrival,
      counted: request.arrival >= warmUp,
    });
    // As a lease settles: the key's place first, then a freed slot wakes the next in line.
    job.claim?.[Symbol.dispose]();
    line.wake();
  };

  for (let event = agenda.pop(); event !== undefined; event = agenda.pop()) {
    now = event.at;
    if (event.kind === "arrival") {
      const { request } = event;
      if (request.arrival >= warmUp) arrived++;
      nextArrival(clientOf.get(request.key)!, now);
      // As selection does: an instance with room takes it, else it waits.
      if (!send(request)) line.push(request);
    } else if (event.kind === "timer") {
      if (!event.timer.cancelled) event.timer.run();
    } else if (event.kind === "scrape") {
      for (const instance of instances) {
        const { engine } = instance;
        instance.backend.load = {
          reading: {
            running: engine.running.length,
            waiting: engine.waiting.length,
            kvCacheUsage: engine.running.length / instance.spec.batch,
          },
          readAt: now,
          loaded: undefined,
        };
      }
      if (agenda.size > 0) agenda.push({ at: now + scenario.scrapeMs, seq: seq++, kind: "scrape" });
    } else if (event.epoch === event.engine.epoch) {
      const { engine } = event;
      engine.advance(now);
      const ended: Job[] = [];
      for (const job of engine.running) {
        if (job.left > 1e-9) continue;
        if (job.phase === "prefill") {
          job.phase = "decode";
          job.left += job.request.outputTokens * engine.spec.msPerToken;
          job.firstTokenAt = now;
          job.instance.state.performance.firstTokenAfter(now - job.sentAt, now);
          job.instance.concurrency?.firstToken(
            now - job.sentAt,
            job.instance.state.active,
            job.request.promptTokens,
          );
        } else {
          ended.push(job);
        }
      }
      if (ended.length > 0) {
        engine.running.splice(
          0,
          engine.running.length,
          ...engine.running.filter((job) => !ended.includes(job)),
        );
        engine.admit();
      }
      reschedule(engine);
      for (const job of ended) finish(job);
    }
    // Let the queue's turns handed out by this event be taken before the next event.
    while (!line.settled) await Promise.resolve();
  }
  const counted = outcomes.filter((outcome) => outcome.counted);
  const refused = counted.filter((outcome) => outcome.refused !== undefined).length;
  return {
    outcomes,
    arrived,
    finished: counted.length - refused,
    refused,
    window: (end - warmUp) / 1000,
    limits: new Map(
      instances.flatMap(({ id, concurrency }) => concurrency ? [[id, concurrency.limit]] : []),
    ),
  };
}
