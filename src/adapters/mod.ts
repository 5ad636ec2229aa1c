/**
 * The adapters by the name used in the config.
 * @module
 */
import type { Adapter } from "./types.ts";
import { anthropic } from "./anthropic.ts";
import { gpustack } from "./gpustack.ts";
import { localai } from "./localai.ts";
import { ollama } from "./ollama.ts";
import { openai } from "./openai.ts";
import { vllm } from "./vllm.ts";
import { xinference } from "./xinference.ts";

export type { Adapter } from "./types.ts";

/**
 * Every adapter name the config accepts; `normal` is JAiRouter's name for `openai`, `claude`
 * its name for `anthropic`.
 */
export const ADAPTER_NAMES = [
  "normal",
  "openai",
  "gpustack",
  "ollama",
  "vllm",
  "xinference",
  "localai",
  "anthropic",
  "claude",
] as const;

/** An adapter name as written in the config. */
export type AdapterName = typeof ADAPTER_NAMES[number];

const ADAPTERS: Readonly<Record<AdapterName, Adapter>> = {
  normal: openai,
  openai,
  gpustack,
  ollama,
  vllm,
  xinference,
  localai,
  anthropic,
  claude: anthropic,
};

/** The adapter for a configured name. */
export function adapterFor(name: AdapterName): Adapter {
  return ADAPTERS[name];
}
