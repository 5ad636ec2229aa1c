/**
 * Which Ollama native API an instance's path calls.
 * @module
 */

/** An Ollama native API the gateway translates for. */
export type NativeEndpoint = "chat" | "generate" | "embed";

const ENDPOINTS: readonly NativeEndpoint[] = ["chat", "generate", "embed"];

/**
 * The native API a path calls, recognised by its ending (`/api/chat`, `/api/generate`,
 * `/api/embed`) so that an instance behind a prefix (`/ollama/api/chat`) is recognised too;
 * `undefined` for any other path, including Ollama's own `/v1/...` OpenAI-compatible ones.
 */
export function nativeEndpointOf(path: string): NativeEndpoint | undefined {
  return ENDPOINTS.find((endpoint) => path.endsWith(`/api/${endpoint}`));
}
