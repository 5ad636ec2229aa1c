/**
 * Days and months in a time zone, as budgets count them: the day and month a moment falls in,
 * and when they end. The boundaries are worked out once per day, not per request.
 * @module
 */

/** The day and month a moment falls in, and when each ends. */
export interface Periods {
  /** `2026-12-05`, in the time zone. */
  readonly day: string;
  /** `2026-12`. */
  readonly month: string;
  /** Clock times (ms) the day and the month end. */
  readonly dayEnds: number;
  readonly monthEnds: number;
}

/** Whether `zone` is a time zone the runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-CA", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The periods of moments in one time zone. */
export class PeriodClock {
  readonly #format: Intl.DateTimeFormat;
  #current: Periods | undefined;
  #dayStarts = 0;

  constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
  }

  /** The periods `now` falls in. */
  at(now: number): Periods {
    const current = this.#current;
    if (current && now < current.dayEnds && now >= this.#dayStarts) return current;
    const [year, month, day] = this.#wall(now);
    this.#dayStarts = this.#midnight(year, month, day);
    const next = this.#midnight(year, month, day + 1);
    const nextMonth = this.#midnight(year, month + 1, 1);
    return this.#current = {
      day: `${year}-${pad(month)}-${pad(day)}`,
      month: `${year}-${pad(month)}`,
      dayEnds: next,
      monthEnds: nextMonth,
    };
  }

  /** Year, month, day, hour, minute, second of `time` on the zone's wall clock. */
  #wall(time: number): [number, number, number, number, number, number] {
    const parts = Object.fromEntries(
      this.#format.formatToParts(time).map((part) => [part.type, part.value]),
    );
    const field = (type: string) => Number(parts[type]);
    return [
      field("year"),
      field("month"),
      field("day"),
      field("hour"),
      field("minute"),
      field("second"),
    ];
  }

  /** The clock time of 00:00 of a day (month and day may overflow) on the zone's wall clock. */
  #midnight(year: number, month: number, day: number): number {
    const wanted = Date.UTC(year, month - 1, day);
    let guess = wanted;
    // The zone's offset at the guess, applied twice to settle across a change of offset.
    for (let i = 0; i < 2; i++) {
      const [y, mo, d, h, mi, s] = this.#wall(guess);
      const offset = Date.UTC(y, mo - 1, d, h, mi, s) - guess;
      guess = wanted - offset;
    }
    return guess;
  }
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}
