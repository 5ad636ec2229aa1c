/**
 * Reading an OpenAI chat request field by field for Anthropic's Messages API: typed readers
 * that refuse a malformed field, and the refusal of a field Messages has no place for.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { show } from "../../lib/request_fields.ts";

/** The Messages path named in refusals. */
const MESSAGES = "Anthropic's Messages API";

/** The refusal of a field, or of one value of it, that the Messages API cannot express. */
export function unsupported(param: string, value?: unknown): GatewayError {
  const what = value === undefined ? `"${param}"` : `"${param}" = ${show(value)}`;
  return new GatewayError(
    400,
    "unsupported_parameter",
    `Parameter ${what} has no equivalent in ${MESSAGES}; the gateway does not drop it silently`,
    { param },
  );
}
