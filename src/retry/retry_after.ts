/**
 * Reading and writing the `Retry-After` header (RFC 9110, section 10.2.3). A backend may give
 * either a number of seconds or an HTTP date; both become a wait in milliseconds. Values that
 * are neither are ignored, and very long waits are cut to a day.
 * @module
 */

/** The longest wait taken from or written to a `Retry-After` header: 24 hours. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

const MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec";
const DAY_NAMES = "Mon|Tue|Wed|Thu|Fri|Sat|Sun";
const LONG_DAY_NAMES = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";
const TIME = String.raw`(\d{2}):(\d{2}):(\d{2})`;

/** `Sun, 06 Nov 1994 08:49:37 GMT`, the form senders must use. */
const IMF_FIXDATE = new RegExp(`^(?:${DAY_NAMES}), (\\d{2}) (${MONTHS}) (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT`, an obsolete form with a two-digit year. */
const RFC850_DATE = new RegExp(
  `^(?:${LONG_DAY_NAMES}), (\\d{2})-(${MONTHS})-(\\d{2}) ${TIME} GMT$`,
);
/** `Sun Nov  6 08:49:37 1994`, the obsolete C `asctime()` form, in GMT. */
const ASCTIME_DATE = new RegExp(`^(?:${DAY_NAMES}) (${MONTHS}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

const DELTA_SECONDS = /^\d+$/;

interface DateParts {
  readonly day: string;
  readonly month: string;
  readonly year: string;
  readonly hour: string;
  readonly minute: string;
  readonly second: string;
}

/**
 * The wait in milliseconds that a `Retry-After` value asks for, at most
 * {@linkcode MAX_RETRY_AFTER_MS}. Accepts a whole number of seconds or an HTTP date in any of the
 * three forms of RFC 9110; a date in the past means no wait. Returns undefined for a missing
 * header or a value in neither form.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const date = parseHttpDate(trimmed, now);
  if (date === undefined) return undefined;
  return Math.min(Math.max(0, Math.ceil(date - now)), MAX_RETRY_AFTER_MS);
}

/**
 * A wait in milliseconds as `Retry-After` delta-seconds: rounded up to whole seconds, at least 1
 * and at most the number of seconds in {@linkcode MAX_RETRY_AFTER_MS}.
 */
export function retryAfterSeconds(ms: number): string {
  const seconds = Math.ceil(Math.min(ms, MAX_RETRY_AFTER_MS) / 1000);
  return String(seconds >= 1 ? seconds : 1);
}

/** An HTTP date as milliseconds since the epoch, or undefined when it is not one. */
function parseHttpDate(value: string, now: number): number | undefined {
  const parts = matchDateParts(value, now);
  if (parts === undefined) return undefined;
  const { day, month, year, hour, minute, second } = parts;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return undefined;
  // A leap second is valid in HTTP dates but not to Date.parse; it is within a second of :59.
  const wholeSecond = second === "60" ? "59" : second;
  const time = Date.parse(`${day} ${month} ${year} ${hour}:${minute}:${wholeSecond} GMT`);
  if (Number.isNaN(time)) return undefined;
  // Date.parse rolls an impossible day such as 31 Feb over into the next month, and reads a
  // year such as 0094 as 1994.
  const parsed = new Date(time);
  if (parsed.getUTCDate() !== Number(day) || parsed.getUTCFullYear() !== Number(year)) {
    return undefined;
  }
  return time;
}

function matchDateParts(value: string, now: number): DateParts | undefined {
  const imf = IMF_FIXDATE.exec(value);
  if (imf !== null) {
    const [, day = "", month = "", year = "", hour = "", minute = "", second = ""] = imf;
    return { day, month, year, hour, minute, second };
  }
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850 !== null) {
    const [, day = "", month = "", shortYear = "", hour = "", minute = "", second = ""] = rfc850;
    return { day, month, year: fullYear(Number(shortYear), now), hour, minute, second };
  }
  const asctime = ASCTIME_DATE.exec(value);
  if (asctime !== null) {
    const [, month = "", day = "", hour = "", minute = "", second = "", year = ""] = asctime;
    return { day: day.trim(), month, year, hour, minute, second };
  }
  return undefined;
}

/**
 * The year a two-digit year stands for: the one in the current century, unless that is more than
 * 50 years ahead, in which case the one a century earlier (RFC 9110, section 5.6.7).
 */
function fullYear(shortYear: number, now: number): string {
  const currentYear = new Date(now).getUTCFullYear();
  const inThisCentury = currentYear - (currentYear % 100) + shortYear;
  return String(inThisCentury > currentYear + 50 ? inThisCentury - 100 : inThisCentury);
}
