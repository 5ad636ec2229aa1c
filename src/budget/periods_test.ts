import assert from "node:assert/strict";
import { isTimeZone, PeriodClock } from "./periods.ts";

Deno.test("a moment's day and month, and when they end, in UTC", () => {
  const clock = new PeriodClock("UTC");
  const periods = clock.at(Date.UTC(2026, 11, 5, 7, 30));
  assert.deepEqual(periods, {
    day: "2026-12-05",
    month: "2026-12",
    dayEnds: Date.UTC(2026, 11, 6),
    monthEnds: Date.UTC(2027, 0, 1),
  });
});

Deno.test("days begin at the zone's midnight", () => {
  const shanghai = new PeriodClock("Asia/Shanghai");
  // 17:00 UTC on the 5th is 01:00 on the 6th in Shanghai (UTC+8).
  const periods = shanghai.at(Date.UTC(2026, 11, 5, 17));
  assert.equal(periods.day, "2026-12-06");
  assert.equal(periods.dayEnds, Date.UTC(2026, 11, 6, 16));
  assert.equal(periods.monthEnds, Date.UTC(2026, 11, 31, 16));
  // One ms before the end it is still the 6th; at the end, the 7th.
  assert.equal(shanghai.at(periods.dayEnds - 1).day, "2026-12-06");
  assert.equal(shanghai.at(periods.dayEnds).day, "2026-12-07");
});

Deno.test("a day that changes its offset ends at the next midnight", () => {
  const newYork = new PeriodClock("America/New_York");
  // 2026-03-08 has 23 hours in New York: clocks go from 02:00 to 03:00.
  const periods = newYork.at(Date.UTC(2026, 2, 8, 12));
  assert.equal(periods.day, "2026-03-08");
  assert.equal(periods.dayEnds, Date.UTC(2026, 2, 9, 4));
});

Deno.test("time zones are told apart from names the runtime does not know", () => {
  assert.ok(isTimeZone("Europe/Berlin"));
  assert.ok(!isTimeZone("Mars/Olympus"));
});
