/**
 * The adapters by the name used in the config.
 * @module
 */
import type { Adapter } from "./types.ts";
import { anthropic } from "./anthropic.ts";
import { azureOpenai } from "./azure_openai.ts";
import { dashscope } from "./dashscope.ts";
import { deepseek } from "./deepseek.ts";
import { gemini } from "./gemini.ts";
import { gpustack } from "./gpustack.ts";
import { hunyuan } from "./hunyuan.ts";
import { llamacpp } from "./llamacpp.ts";
import { localai } from "./localai.ts";
import { ollama } from "./ollama.ts";
import { openai } from "./openai.ts";
import { openrouter } from "./openrouter.ts";
import { volcengine } from "./volcengine.ts";
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
  "llamacpp",
  "gemini",
  "azure-openai",
  "volcengine",
  "dashscope",
  "hunyuan",
  "deepseek",
  "openrouter",
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
  llamacpp,
  gemini,
  "azure-openai": azureOpenai,
  volcengine,
  dashscope,
  hunyuan,
  deepseek,
  openrouter,
};

/** The adapter for a configured name. */
export function adapterFor(name: AdapterName): Adapter {
  return ADAPTERS[name];
}
