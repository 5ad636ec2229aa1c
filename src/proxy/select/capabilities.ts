/**
 * Matching a request's needs to what instances can take: an instance is left out only for a
 * capability it is known to lack, and when every instance of the model lacks one, the request
 * is refused with a 400 that names it.
 * @module
 */
import type { Capabilities } from "../../config/schema.ts";
import { GatewayError } from "../../errors.ts";
import type { RequestNeeds } from "../request/needs.ts";

/** Whether an instance that can take `capabilities` can take a request with `needs`. */
export function canServe(capabilities: Capabilities | undefined, needs: RequestNeeds): boolean {
  if (capabilities === undefined) return true;
  const { context } = capabilities;
  return !(needs.vision && capabilities.vision === false) &&
    !(needs.tools && capabilities.tools === false) &&
    !(needs.audio && capabilities.audio === false) &&
    (context === undefined || needs.promptTokens + (needs.maxTokens ?? 0) <= context);
}

type Feature = "vision" | "tools" | "audio";

const FEATURES: readonly Feature[] = ["vision", "tools", "audio"];

const WHY: Readonly<Record<Feature, string>> = {
  vision: "the request carries an image",
  tools: "the request defines tools",
  audio: "the request carries audio or asks for an answer in audio",
};

/**
 * The refusal of a request for `model` that none of the instances with `known` capabilities can
 * take: it names the capabilities no instance has, or, when each has some, those needed together.
 */
export function missingCapability(
  model: string,
  needs: RequestNeeds,
  known: readonly (Capabilities | undefined)[],
): GatewayError {
  const tokens = needs.promptTokens + (needs.maxTokens ?? 0);
  const contexts = known.map((capabilities) => capabilities?.context ?? Infinity);
  const largest = Math.max(...contexts);
  const needed = [
    ...FEATURES.filter((feature) => needs[feature]).map((feature) => ({
      missing: known.every((capabilities) => capabilities?.[feature] === false),
      text: `${feature} (${WHY[feature]})`,
    })),
    {
      missing: tokens > largest,
      text: `a context of ${tokens} tokens (about ${needs.promptTokens} in the prompt` +
        (needs.maxTokens ? ` and up to ${needs.maxTokens} in the answer` : "") +
        (largest === Infinity ? ")" : `; the largest is ${largest})`),
    },
  ];
  const missing = needed.filter((need) => need.missing);
  // Each need is met by some instance, but none meets them all: name every one but context,
  // which is met wherever it is named at all.
  const named = missing.length > 0
    ? missing
    : needed.filter((_, index) => index < needed.length - 1 || tokens > Math.min(...contexts));
  return new GatewayError(
    400,
    "missing_capability",
    `Model "${model}" has no instance with ${named.map((need) => need.text).join(" and ")}` +
      (missing.length > 0 ? "" : " together"),
  );
}
