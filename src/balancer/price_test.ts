import assert from "node:assert/strict";
import { requestCost, typicalRequestPrice } from "./price.ts";

const PRICE = { input: 2, output: 8, request: 0.01 };

Deno.test("a request costs its tokens at the prices per million plus the price per request", () => {
  assert.equal(requestCost(PRICE, { input: 500_000, output: 250_000 }), 1 + 2 + 0.01);
  assert.equal(requestCost({ input: 0, output: 0, request: 0 }, { input: 9, output: 9 }), 0);
});

Deno.test("without a reported usage a request costs only the price per request", () => {
  assert.equal(requestCost(PRICE, undefined), 0.01);
});

Deno.test("the ranking price is a request of 1,000 input and 1,000 output tokens", () => {
  assert.equal(typicalRequestPrice(PRICE), (1_000 * 2 + 1_000 * 8) / 1_000_000 + 0.01);
  assert.equal(typicalRequestPrice({ input: 0, output: 0, request: 0.5 }), 0.5);
  assert.equal(typicalRequestPrice(undefined), 0, "an instance without a price costs nothing");
});
