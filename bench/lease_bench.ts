/**
 * What settling an attempt costs, and what reading a response head's fields costs: the choices
 * `src/proxy/attempt/lease.ts` and `src/transport/http1/response_head.ts` made.
 *
 * - a lease on a claim record of its own, against the same settlement on a `DisposableStack`;
 * - the control-character check as one test per value, against one pass over the whole head;
 * - a `Content-Length` tested as plain digits first, against the list pattern alone.
 *
 * Usage: `deno bench --no-check bench/lease_bench.ts`
 * @module
 */
import { parseConfig } from "../src/config/load.ts";
import { UpstreamLease } from "../src/proxy/attempt/lease.ts";
import { Registry } from "../src/registry/registry.ts";

const { config } = parseConfig(
  "model:\n  services:\n    chat:\n      instances:\n        - name: m\n          base-url: http://127.0.0.1:9\n",
  { source: "bench.yaml" },
);
const upstream = new Registry(config.model).snapshot.services.chat.upstreams[0]!;
const claim = {
  client: { ip: "127.0.0.1", apiKey: () => "" },
  now: () => 0,
  observer: { rateLimit() {} },
};
let sink = 0;
const departure = { [Symbol.dispose]: () => void sink++ };

Deno.bench("lease: claim, one cleanup, move, settle", { group: "settle" }, () => {
  const lease = UpstreamLease.claim(upstream, claim)!;
  lease.use(departure);
  lease.succeeded();
  lease.move()[Symbol.dispose]();
});

Deno.bench("DisposableStack: the same steps", { group: "settle", baseline: true }, () => {
  const state = upstream.state;
  state.active++;
  const stack = new DisposableStack();
  stack.defer(() => state.active--);
  stack.defer(() => void sink++);
  stack.defer(() => departure[Symbol.dispose]());
  stack.move().dispose();
});

const HEAD = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 212\r\n" +
  "date: Sat, 05 Dec 2026 00:00:00 GMT\r\nx-request-id: 5f0c4e2a-9a1b-4c1d-8e2f-0a1b2c3d4e5f\r\n" +
  "server: uvicorn";
// deno-lint-ignore no-control-regex
const PER_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// deno-lint-ignore no-control-regex
const WHOLE_HEAD = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n|$)/;
const VALUES = HEAD.split("\r\n").slice(1).map((line) => line.slice(line.indexOf(":") + 1).trim());

Deno.bench("head: one pass over the whole head", { group: "controls", baseline: true }, () => {
  if (WHOLE_HEAD.test(HEAD)) sink++;
});

Deno.bench("head: one test per value and the reason", { group: "controls" }, () => {
  if (PER_VALUE.test("OK")) sink++;
  for (const value of VALUES) if (PER_VALUE.test(value)) sink++;
});

const DIGITS = /^\d{1,15}$/;
const LENGTH = /^(\d{1,15})(?:[ \t]*,[ \t]*\1)*$/;

Deno.bench("content-length: digits first", { group: "length" }, () => {
  if ((DIGITS.test("212") ? "212" : LENGTH.exec("212")?.[1]) !== undefined) sink++;
});

Deno.bench("content-length: the list pattern alone", { group: "length", baseline: true }, () => {
  if (LENGTH.exec("212")?.[1] !== undefined) sink++;
});
