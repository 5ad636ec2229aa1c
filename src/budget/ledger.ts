/**
 * What each client key and team has used, per day and model: requests, input and output tokens
 * and spend. Kept in memory for the budgets to read with no store round trip per request, and
 * written to Deno KV as sums: every `server.budgets-sync-interval` ms (and when the gateway
 * stops), which also reads back what gateways sharing the store wrote, and whenever an answer
 * under a budget asks, before its end goes out ({@linkcode UsageLedger.commit}: commits in a
 * group, one at a time, each holding everything recorded before it began), so that use a client
 * was given is stored even when the gateway is killed outright.
 *
 * Store layout: `[switchyard, usage, <day>, <subject>, <model>, <metric>]` holds a `Deno.KvU64`
 * that every gateway adds to atomically; metrics are `requests`, `input`, `output` and `spend`
 * (millionths of a US dollar). A subject is `key:<id>` or `team:<id>`.
 * @module
 */
import { type Schedule, scheduleDeadline } from "../lib/deadlines.ts";
import { PeriodClock, type Periods } from "./periods.ts";

const ROOT = ["switchyard", "usage"] as const;
const METRICS = ["requests", "input", "output", "spend"] as const;
type Metric = typeof METRICS[number];

/** Mutations per atomic commit; Deno KV allows 1,000. */
const BATCH = 500;

/** Use in one period. */
export interface Used {
  requests: number;
  /** Input and output tokens. */
  tokens: number;
  /** US dollars. */
  spend: number;
}

/** What one request adds. */
export interface UsageDelta {
  readonly requests?: number;
  readonly input?: number;
  readonly output?: number;
  /** US dollars. */
  readonly spend?: number;
}

/** One row of the usage report. */
export interface UsageRow {
  readonly day: string;
  readonly subject: string;
  readonly model: string;
  readonly requests: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly spend_usd: number;
}

/** Options for {@linkcode UsageLedger}. */
export interface LedgerOptions {
  /** The zone whose midnights start days and months. */
  readonly timeZone: string;
  /** Clock, in ms. @default Date.now */
  readonly now?: () => number;
  /**
   * Told when a {@linkcode UsageLedger.commit} fails after writes that did not (and not again
   * until one succeeds): the use is kept for the next write.
   */
  readonly onCommitFailed?: ((error: unknown) => void) | undefined;
  /**
   * The longest a {@linkcode UsageLedger.commit} is waited for, in ms: a store that hangs is
   * then told as a failed commit, and the answers waiting go out. @default 2000
   */
  readonly commitWait?: number;
  /** Schedules the end of that wait. @default scheduleDeadline */
  readonly schedule?: Schedule;
}

type Counts = Record<Metric, number>;

function emptyUsed(): Used {
  return { requests: 0, tokens: 0, spend: 0 };
}

/** The use of every subject, kept and stored. */
export class UsageLedger {
  readonly #kv: Deno.Kv;
  readonly #periods: PeriodClock;
  readonly #now: () => number;
  readonly #onCommitFailed: (error: unknown) => void;
  readonly #commitWait: number;
  readonly #schedule: Schedule;
  /** Whether the last write failed. */
  #failing = false;
  /** The periods the totals below are of. */
  #current: Periods;
  /** Per subject: its stored use today, and this month before today. */
  #today = new Map<string, Used>();
  #earlierThisMonth = new Map<string, Used>();
  /** Use not stored yet, per store entry (`day|subject|model`), and per subject today. */
  #pending = new Map<string, Counts>();
  #pendingBySubject = new Map<string, Used>();
  /** Use being written, per subject today. */
  #writing = new Map<string, Used>();
  /** Use written since today's totals were last read, per subject. */
  #written = new Map<string, Used>();
  /** The last store operation asked for; each begins once the one before has ended. */
  #busy: Promise<void> = Promise.resolve();
  /** The commit asked for that has not begun yet: later callers join it. */
  #nextCommit: Promise<void> | undefined;

  constructor(kv: Deno.Kv, options: LedgerOptions) {
    this.#kv = kv;
    this.#periods = new PeriodClock(options.timeZone);
    this.#now = options.now ?? Date.now;
    this.#onCommitFailed = options.onCommitFailed ?? (() => {});
    this.#commitWait = options.commitWait ?? 2000;
    this.#schedule = options.schedule ?? scheduleDeadline;
    this.#current = this.#periods.at(this.#now());
  }

  /** The periods `now` falls in, in the ledger's zone. */
  periods(now: number = this.#now()): Periods {
    return this.#periods.at(now);
  }

  /** Reads this month's use so far from the store. */
  async open(): Promise<void> {
    this.#current = this.#periods.at(this.#now());
    const [year, month, today] = this.#current.day.split("-").map(Number) as [
      number,
      number,
      number,
    ];
    const earlier = new Map<string, Used>();
    for (let day = 1; day < today; day++) {
      const date = `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
      await this.#readDay(date, earlier);
    }
    this.#earlierThisMonth = earlier;
    this.#today = await this.#readDay(this.#current.day, new Map());
  }

  /** What `subject` has used in the current `period`, stored or not. */
  used(subject: string, period: "day" | "month"): Used {
    this.#roll();
    const used = emptyUsed();
    const sources = [this.#today, this.#written, this.#writing, this.#pendingBySubject];
    if (period === "month") sources.push(this.#earlierThisMonth);
    for (const source of sources) add(used, source.get(subject));
    return used;
  }

  /** Adds what one request of `model` used to each of `subjects`. */
  record(subjects: readonly string[], model: string, delta: UsageDelta): void {
    this.#roll();
    const day = this.#current.day;
    const spendMicros = Math.round((delta.spend ?? 0) * 1e6);
    for (const subject of subjects) {
      const key = `${day}\u0000${subject}\u0000${model}`;
      let counts = this.#pending.get(key);
      if (counts === undefined) {
        this.#pending.set(key, counts = { requests: 0, input: 0, output: 0, spend: 0 });
      }
      counts.requests += delta.requests ?? 0;
      counts.input += delta.input ?? 0;
      counts.output += delta.output ?? 0;
      counts.spend += spendMicros;
      let used = this.#pendingBySubject.get(subject);
      if (used === undefined) this.#pendingBySubject.set(subject, used = emptyUsed());
      used.requests += delta.requests ?? 0;
      used.tokens += (delta.input ?? 0) + (delta.output ?? 0);
      used.spend += spendMicros / 1e6;
    }
  }

  /**
   * Writes the use not stored yet, as sums, then reads today's totals back (which include what
   * other gateways sharing the store wrote). One store operation at a time: a call during one
   * waits for it, then writes what was recorded since it began.
   */
  flush(): Promise<void> {
    return this.#after(async () => {
      await this.#write();
      this.#roll();
      this.#today = await this.#readDay(this.#current.day, new Map());
      this.#written = new Map();
    });
  }

  /**
   * Resolves once everything recorded so far is stored, or the store refused it or took longer
   * than `commitWait` (the use is then kept for the next write, and `onCommitFailed` told); never
   * rejects. Callers during a commit join the next one, which begins when that one ends: however
   * many answers ask, one commit is in flight at a time.
   */
  commit(): Promise<void> {
    return this.#nextCommit ??= this.#waited(this.#after(() => {
      this.#nextCommit = undefined;
      return this.#write();
    }));
  }

  /** Settles when `write` does, or after `commitWait` ms; a failure either way is told. */
  #waited(write: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const failed = (error: unknown) => {
        if (!this.#failing) this.#onCommitFailed(error);
        this.#failing = true;
        resolve();
      };
      const wait = this.#schedule(
        () => failed(new Error(`The store took over ${this.#commitWait} ms to take the usage`)),
        this.#commitWait,
      );
      write.finally(() => wait.cancel()).then(resolve, failed);
    });
  }

  /** Runs `operation` once the store operation before it ended, whatever became of it. */
  #after(operation: () => Promise<void>): Promise<void> {
    const done = this.#busy.catch(() => {}).then(operation);
    this.#busy = done;
    return done;
  }

  /** Writes the use recorded and not stored yet. */
  async #write(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#writing = this.#pendingBySubject;
    this.#pendingBySubject = new Map();
    const mutations: [Deno.KvKey, number][] = [];
    for (const [key, counts] of pending) {
      const [day, subject, model] = key.split("\u0000") as [string, string, string];
      for (const metric of METRICS) {
        if (counts[metric] > 0) {
          mutations.push([[...ROOT, day, subject, model, metric], counts[metric]]);
        }
      }
    }
    let committed = 0;
    try {
      for (; committed < mutations.length; committed += BATCH) {
        const commit = this.#kv.atomic();
        for (const [key, value] of mutations.slice(committed, committed + BATCH)) {
          commit.sum(key, BigInt(value));
        }
        await commit.commit();
      }
      this.#failing = false;
    } catch (error) {
      // What was not stored is kept for the next flush: use is never dropped.
      for (const [key, value] of mutations.slice(committed)) {
        const [, , day, subject, model, metric] = key as string[];
        const pendingKey = `${day}\u0000${subject}\u0000${model}`;
        let counts = this.#pending.get(pendingKey);
        if (counts === undefined) {
          this.#pending.set(pendingKey, counts = { requests: 0, input: 0, output: 0, spend: 0 });
        }
        counts[metric as Metric] += value;
      }
      addAll(this.#pendingBySubject, this.#writing);
      this.#writing = new Map();
      throw error;
    }
    addAll(this.#written, this.#writing);
    this.#writing = new Map();
  }

  /** The usage rows of the days from `from` to `to` (inclusive, `YYYY-MM-DD`). */
  async report(from: string, to: string): Promise<UsageRow[]> {
    await this.flush();
    const rows = new Map<string, { day: string; subject: string; model: string } & Counts>();
    const entries = this.#kv.list<Deno.KvU64>({
      start: [...ROOT, from],
      end: [...ROOT, `${to}\uffff`],
    });
    for await (const entry of entries) {
      const [, , day, subject, model, metric] = entry.key as string[];
      const id = `${day}\u0000${subject}\u0000${model}`;
      let row = rows.get(id);
      if (row === undefined) {
        rows.set(
          id,
          row = {
            day: day!,
            subject: subject!,
            model: model!,
            requests: 0,
            input: 0,
            output: 0,
            spend: 0,
          },
        );
      }
      row[metric as Metric] += Number(entry.value.value);
    }
    return [...rows.values()].map((row) => ({
      day: row.day,
      subject: row.subject,
      model: row.model,
      requests: row.requests,
      input_tokens: row.input,
      output_tokens: row.output,
      spend_usd: row.spend / 1e6,
    }));
  }

  /** Moves the totals on when a day or month has ended. */
  #roll(): void {
    const now = this.#now();
    if (now < this.#current.dayEnds) return;
    const next = this.#periods.at(now);
    if (next.month === this.#current.month) {
      // Today's use, stored or not yet (it is stored under the day it was recorded on), is now
      // earlier this month.
      for (const source of [this.#today, this.#written, this.#writing, this.#pendingBySubject]) {
        addAll(this.#earlierThisMonth, source);
      }
    } else {
      this.#earlierThisMonth = new Map();
    }
    this.#pendingBySubject = new Map();
    this.#writing = new Map();
    this.#written = new Map();
    this.#today = new Map();
    this.#current = next;
  }

  /** Adds one day's stored use, per subject, to `into`. */
  async #readDay(day: string, into: Map<string, Used>): Promise<Map<string, Used>> {
    for await (const entry of this.#kv.list<Deno.KvU64>({ prefix: [...ROOT, day] })) {
      const [, , , subject, , metric] = entry.key as string[];
      let used = into.get(subject!);
      if (used === undefined) into.set(subject!, used = emptyUsed());
      const value = Number(entry.value.value);
      if (metric === "requests") used.requests += value;
      else if (metric === "input" || metric === "output") used.tokens += value;
      else if (metric === "spend") used.spend += value / 1e6;
    }
    return into;
  }
}

/** Adds each subject's use in `from` to its use in `into`. */
function addAll(into: Map<string, Used>, from: ReadonlyMap<string, Used>): void {
  for (const [subject, used] of from) {
    let total = into.get(subject);
    if (total === undefined) into.set(subject, total = emptyUsed());
    add(total, used);
  }
}

function add(to: Used, from: Used | undefined): void {
  if (from === undefined) return;
  to.requests += from.requests;
  to.tokens += from.tokens;
  to.spend += from.spend;
}
