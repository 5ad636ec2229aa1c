/**
 * Why an admin makes a change: the `X-Change-Reason` header of an admin write, kept with the
 * config version it makes and in the audit trail. Header values are Latin-1, so UTF-8 text may
 * come percent-encoded (as the console sends it) and is decoded.
 * @module
 */
import { GatewayError } from "../errors.ts";

/** The request header that says why. */
export const CHANGE_REASON_HEADER = "x-change-reason";

/** The most characters a reason keeps. */
export const MAX_CHANGE_REASON = 500;

/** The reason `header` gives, trimmed; undefined for none. Throws a 400 for one too long. */
export function changeReason(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let text = header;
  if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // Not percent-encoding after all: kept as sent.
    }
  }
  text = text.trim();
  if (text === "") return undefined;
  if (text.length > MAX_CHANGE_REASON) {
    throw new GatewayError(
      400,
      "invalid_request",
      `${CHANGE_REASON_HEADER} is ${text.length} characters; at most ${MAX_CHANGE_REASON} are kept`,
      { param: CHANGE_REASON_HEADER },
    );
  }
  return text;
}
