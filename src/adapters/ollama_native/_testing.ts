/**
 * Helpers for this folder's tests.
 * @module
 */
import assert from "node:assert/strict";
import { GatewayError } from "../../errors.ts";

/** The refusal `fn` throws; fails the test if it throws none or something else. */
export function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${error}`);
    return error;
  }
  assert.fail("expected a refusal");
}

/** Asserts that `fn` refuses with a 400 of this code, naming this param. */
export function assertRefused(
  fn: () => unknown,
  code: "unsupported_parameter" | "invalid_request",
  param: string,
): GatewayError {
  const error = refusal(fn);
  assert.equal(error.status, 400, error.message);
  assert.equal(error.code, code, error.message);
  assert.equal(error.param, param, error.message);
  return error;
}

/** Asserts that `fn` refuses an answer from the backend as malformed. */
export function assertBadAnswer(fn: () => unknown): GatewayError {
  const error = refusal(fn);
  assert.equal(error.status, 502, error.message);
  assert.equal(error.code, "bad_upstream_response");
  assert.equal(error.type, "upstream_error");
  return error;
}
