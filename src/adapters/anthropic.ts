import { chatToMessages } from "../translate/messages/chat_to_messages.ts";
import { openAiModelList, success } from "./_readers.ts";
import type { Adapter } from "./types.ts";

/** The API version the translation speaks; an instance's `headers` may name another. */
export const ANTHROPIC_VERSION = "2023-06-01";

/** The largest page `GET /v1/models` gives: one request lists every model. */
const MODELS_PATH = "/v1/models?limit=1000";

/**
 * Anthropic's API (also named `claude`, as in JAiRouter): chat requests are translated to its
 * Messages API at `/v1/messages` and the answers back. The key goes in `x-api-key`, and every
 * request names the API version in `anthropic-version`.
 *
 * The health probe is the model list, which costs no tokens. Only a 2xx answer (or a 429: the
 * service is there but busy) counts as up: a 401 or 403 means every request with the instance's
 * key would be refused, so the instance is marked down with that status as the reason, and its
 * traffic goes to instances that can serve it.
 */
export const anthropic: Adapter = {
  name: "anthropic",
  title: "Anthropic",
  defaultPaths: { chat: "/v1/messages", messages: "/v1/messages" },
  health: {
    path: "/v1/models",
    healthy: (status) => success(status) || status === 429,
  },
  // Its entries have an `id` as OpenAI's do.
  models: openAiModelList(MODELS_PATH),
  headers: [["anthropic-version", ANTHROPIC_VERSION]],
  authHeader: (key) => ["x-api-key", key],
  translation: (_path, service) => service === "chat" ? chatToMessages : undefined,
};
