import assert from "node:assert/strict";
import { MAX_RETRY_AFTER_MS, parseRetryAfter, retryAfterSeconds } from "./retry_after.ts";

const NOW = Date.UTC(2015, 9, 21, 7, 28, 0);

Deno.test("a whole number of seconds becomes milliseconds", () => {
  assert.equal(parseRetryAfter("120", NOW), 120_000);
  assert.equal(parseRetryAfter("0", NOW), 0);
  assert.equal(parseRetryAfter("007", NOW), 7_000);
});

Deno.test("whitespace around the value is ignored", () => {
  assert.equal(parseRetryAfter("  30\t", NOW), 30_000);
  assert.equal(parseRetryAfter(" Wed, 21 Oct 2015 07:28:10 GMT ", NOW), 10_000);
});

Deno.test("seconds that are fractional, negative, signed or in exponent form are not accepted", () => {
  for (const value of ["1.5", "-5", "+5", "1e3", "0x10", "12 s", "1 2", "٣"]) {
    assert.equal(parseRetryAfter(value, NOW), undefined, value);
  }
});

Deno.test("a missing, empty or meaningless value gives no wait", () => {
  for (const value of [null, "", "   ", "soon", "tomorrow", "2015-10-21T07:28:10Z", "1 2 3"]) {
    assert.equal(parseRetryAfter(value, NOW), undefined, String(value));
  }
});

Deno.test("an IMF-fixdate in the future is the time until then", () => {
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:30:00 GMT", NOW), 120_000);
});

Deno.test("an obsolete RFC 850 date is accepted", () => {
  assert.equal(parseRetryAfter("Wednesday, 21-Oct-15 07:29:00 GMT", NOW), 60_000);
});

Deno.test("an obsolete asctime date is read as GMT", () => {
  assert.equal(parseRetryAfter("Wed Oct 21 07:28:05 2015", NOW), 5_000);
  const nowInNovember = Date.UTC(1994, 10, 6, 8, 49, 0);
  assert.equal(parseRetryAfter("Sun Nov  6 08:49:37 1994", nowInNovember), 37_000);
});

Deno.test("a two-digit year more than 50 years ahead means the century before", () => {
  const inRfc850 = (year: string) => `Sunday, 06-Nov-${year} 08:49:37 GMT`;
  assert.equal(parseRetryAfter(inRfc850("94"), NOW), 0, "1994, in the past");
  assert.equal(parseRetryAfter(inRfc850("65"), NOW), MAX_RETRY_AFTER_MS, "2065, ahead");
  assert.equal(parseRetryAfter(inRfc850("66"), NOW), 0, "1966, as 2066 is over 50 years ahead");
});

Deno.test("a date in the past or right now means no wait", () => {
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", NOW), 0);
  assert.equal(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", NOW), 0);
});

Deno.test("long waits are cut to a day", () => {
  assert.equal(MAX_RETRY_AFTER_MS, 86_400_000);
  assert.equal(parseRetryAfter("86400", NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter("86401", NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter("9".repeat(400), NOW), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter("Fri, 21 Oct 2016 07:28:00 GMT", NOW), MAX_RETRY_AFTER_MS);
});

Deno.test("dates in forms other than the three of HTTP are not accepted", () => {
  for (
    const value of [
      "21 Oct 2015 07:30:00 GMT",
      "Wed, 21 Oct 2015 07:30:00",
      "Wed, 21 Oct 2015 07:30:00 UTC",
      "Wed, 21 Oct 2015 07:30:00 +0000",
      "wed, 21 oct 2015 07:30:00 gmt",
      "Wed, 21 October 2015 07:30:00 GMT",
      "Wed, 1 Oct 2015 07:30:00 GMT",
      "Wed, 21 Oct 15 07:30:00 GMT",
      "Wed, 21-Oct-15 07:30:00 GMT",
      "Wed Oct 21 07:30:00 2015 GMT",
      "Wed Oct 21 7:30:00 2015",
    ]
  ) {
    assert.equal(parseRetryAfter(value, NOW), undefined, value);
  }
});

Deno.test("a date that does not exist is not accepted", () => {
  for (
    const value of [
      "Sat, 31 Feb 2016 07:30:00 GMT",
      "Wed, 00 Oct 2015 07:30:00 GMT",
      "Wed, 21 Oct 2015 24:00:00 GMT",
      "Wed, 21 Oct 2015 07:60:00 GMT",
      "Wed, 21 Oct 2015 07:30:61 GMT",
      "Sun, 06 Nov 0094 08:49:37 GMT",
    ]
  ) {
    assert.equal(parseRetryAfter(value, NOW), undefined, value);
  }
});

Deno.test("a leap second is accepted", () => {
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:29:60 GMT", NOW), 119_000);
});

Deno.test("a wait is written as whole seconds, rounded up", () => {
  assert.equal(retryAfterSeconds(1_000), "1");
  assert.equal(retryAfterSeconds(1_001), "2");
  assert.equal(retryAfterSeconds(119_500), "120");
});

Deno.test("a written wait is at least one second", () => {
  assert.equal(retryAfterSeconds(0), "1");
  assert.equal(retryAfterSeconds(1), "1");
  assert.equal(retryAfterSeconds(-5_000), "1");
  assert.equal(retryAfterSeconds(Number.NaN), "1");
});

Deno.test("a written wait is at most a day, so it is always plain digits", () => {
  assert.equal(retryAfterSeconds(MAX_RETRY_AFTER_MS + 1), "86400");
  assert.equal(retryAfterSeconds(Infinity), "86400");
  assert.equal(retryAfterSeconds(1e300), "86400");
});

Deno.test("a written wait reads back as the same number of seconds", () => {
  for (const ms of [1, 999, 1_000, 42_250, MAX_RETRY_AFTER_MS]) {
    const written = retryAfterSeconds(ms);
    assert.equal(parseRetryAfter(written, NOW), Number(written) * 1000);
  }
});
