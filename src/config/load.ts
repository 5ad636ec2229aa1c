/**
 * Turns YAML text (plus environment and flag overrides) into a validated {@linkcode Config},
 * or a {@linkcode ConfigError} that lists every problem with its YAML path and line.
 * @module
 */
import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { closestKey, knownKeysAt } from "./suggest.ts";
import {
  type Config,
  ConfigSchema,
  FOREIGN_SECTIONS,
  IGNORED_JAIROUTER_KEYS,
  type ModelConfig,
  ModelSchema,
} from "./schema.ts";
import { numberDuplicates } from "./instance_identity.ts";
import { instanceKeys } from "../registry/snapshot.ts";
import { SERVICE_TYPES } from "../services.ts";

/** One thing wrong with a config. */
export interface ConfigProblem {
  /** Where, as a YAML path: `model.services.chat.instances[0].base-url`. */
  readonly path: string;
  /** The 1-based line in the file, where known. */
  readonly line?: number;
  readonly message: string;
}

/** A config that cannot be used, with every problem found in it. */
export class ConfigError extends Error {
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(
      `Cannot load config "${source}": ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }\n${problems.map((problem) => `  ${formatProblem(problem)}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.source = source;
    this.problems = problems;
  }
}

/** A value set from outside the file (a flag or an environment variable). */
export interface ConfigOverride {
  /** Where it goes, e.g. `["server", "port"]`. */
  readonly path: readonly string[];
  readonly value: unknown;
  /** What set it, for error messages: `--port`, `PORT`. */
  readonly origin: string;
}

/** A usable config, and what the loader wants the operator to know about it. */
export interface LoadedConfig {
  readonly config: Config;
  /** The `model:` section as written, before defaults: what runtime changes are made to. */
  readonly model: Record<string, unknown>;
  readonly warnings: readonly string[];
}

/** Options for {@linkcode parseConfig}. */
export interface ParseConfigOptions {
  /** The file name shown in messages. */
  readonly source: string;
  /** Values from flags and the environment; they win over the file. */
  readonly overrides?: readonly ConfigOverride[];
}

/** Parses and validates config YAML; throws {@linkcode ConfigError} listing every problem. */
export function parseConfig(text: string, options: ParseConfigOptions): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      options.source,
      doc.errors.map((error) => ({
        path: "(yaml)",
        line: lineCounter.linePos(error.pos[0]).line,
        message: error.message.split("\n")[0]!,
      })),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const overrides = options.overrides ?? [];
  applyOverrides(raw, overrides);

  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const lineOf = (path: readonly PropertyKey[], key?: string) => {
      const node = key === undefined ? doc.getIn(path, true) : keyNode(doc.getIn(path, true), key);
      const offset = (node as Node | undefined)?.range?.[0];
      return offset === undefined ? undefined : lineCounter.linePos(offset).line;
    };
    throw new ConfigError(
      options.source,
      result.error.issues.flatMap((issue) =>
        problemsOf(issue, { schema: ConfigSchema, input: raw }, lineOf, overrides)
      ),
    );
  }

  const warnings = [
    ...FOREIGN_SECTIONS
      .filter((name) => (result.data as Record<string, unknown>)[name] !== undefined)
      .map((name) => `Section "${name}" is not used by Switchyard and is ignored`),
    ...duplicateInstances(result.data.model),
  ];
  const model = (raw as Record<string, unknown>).model;
  warnings.push(...ignoredKeyWarnings(model));
  return { config: result.data, model: isObject(model) ? model : {}, warnings };
}

/**
 * One warning per instance that repeats an earlier one of its service: same name, base URL and
 * path, the adapter's default path counting as written out. Both are kept, the copy with a
 * `#2`… id, so a config that lists an instance twice still loads.
 */
export function duplicateInstances(model: ModelConfig): string[] {
  return SERVICE_TYPES.flatMap((type) => {
    const keys = instanceKeys(model, type);
    const ids = numberDuplicates(keys);
    return keys.flatMap((key, index) => {
      const first = keys.indexOf(key);
      if (first === index) return [];
      return [
        `model.services.${type}.instances[${index}] is the same instance as instances[${first}] ` +
        `("${key}"); it is kept as "${ids[index]}", a copy with its own state`,
      ];
    });
  });
}

/** What {@linkcode validateModel} answers. */
export type ModelValidation =
  | { readonly ok: true; readonly model: ModelConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Validates a `model:` section as written, e.g. one changed through the admin API. */
export function validateModel(raw: unknown): ModelValidation {
  const result = ModelSchema.safeParse(raw);
  if (result.success) return { ok: true, model: result.data };
  return {
    ok: false,
    problems: schemaProblems(result.error.issues, ["model"], { schema: ModelSchema, input: raw }),
  };
}

/** What was validated, so that problems can say what a key was meant to be or what it holds. */
export interface Validated {
  readonly schema: z.ZodType;
  readonly input: unknown;
}

/**
 * The problems of a failed validation, one per unknown key, with paths under `prefix`. Given
 * what was validated, a missing key is named as such and an unknown key gets a suggestion.
 */
export function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  validated?: Validated,
): ConfigProblem[] {
  return issues.flatMap((issue) =>
    issueProblems(issue, validated).map(({ path, message }) => ({
      path: formatPath([...prefix, ...path]),
      message,
    }))
  );
}

/** One problem of an issue: its path, its message, and the node whose line it gets. */
interface IssueProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** The node to take the line from: the value at `path`, or the key `key` in it. */
  readonly at: { readonly path: readonly PropertyKey[]; readonly key?: string };
}

/** What the loader says about one zod issue: one problem per unknown key, else one. */
function issueProblems(issue: z.core.$ZodIssue, validated: Validated | undefined): IssueProblem[] {
  if (issue.code === "unrecognized_keys") {
    const known = validated ? knownKeysAt(validated.schema, issue.path) : [];
    return issue.keys.map((key) => {
      const meant = closestKey(key, known);
      return {
        path: [...issue.path, key],
        message: `Unknown key "${key}"${meant === undefined ? "" : `; did you mean "${meant}"?`}`,
        at: { path: issue.path, key },
      };
    });
  }
  const last = issue.path[issue.path.length - 1];
  if (
    validated && issue.code !== "custom" && typeof last === "string" &&
    isMissing(validated.input, issue.path)
  ) {
    return [{
      path: issue.path,
      message: `Required key "${last}" is missing`,
      at: { path: issue.path.slice(0, -1) },
    }];
  }
  // zod's own enum message, not one the schema wrote for this value (an unsupported adapter).
  if (
    validated && issue.code === "invalid_value" && issue.values.length > 1 &&
    issue.message.startsWith("Invalid option")
  ) {
    const value = valueAt(validated.input, issue.path);
    const noun = typeof last === "string" ? VALUE_NOUNS[last] ?? last : "value";
    return [{
      path: issue.path,
      message: `Unknown ${noun} ${JSON.stringify(value)}; expected one of ${
        issue.values.map(String).join(", ")
      }`,
      at: { path: issue.path },
    }];
  }
  return [{ path: issue.path, message: issue.message, at: { path: issue.path } }];
}

/** What an enum key's value is called in messages, where it is not the key itself. */
const VALUE_NOUNS: Readonly<Record<string, string>> = {
  type: "strategy",
  "hash-algorithm": "hash algorithm",
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** Whether the object holding the last key of `path` is there and lacks that key. */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  const parent = valueAt(input, path.slice(0, -1));
  return isObject(parent) && !Object.hasOwn(parent, path[path.length - 1]!);
}

/**
 * One warning per JAiRouter key that is accepted and ignored (see `IGNORED_JAIROUTER_KEYS`),
 * naming where it is written.
 */
export function ignoredKeyWarnings(model: unknown): string[] {
  const found = new Map<string, { why: string; paths: string[] }>();
  const note = (section: unknown, path: string, keys: Readonly<Record<string, string>>) => {
    if (!isObject(section)) return;
    for (const [key, why] of Object.entries(keys)) {
      if (!(key in section)) continue;
      const entry = found.get(key) ?? { why, paths: [] };
      entry.paths.push(`${path}.${key}`);
      found.set(key, entry);
    }
  };
  const rateLimitKeys = IGNORED_JAIROUTER_KEYS["rate-limit"];
  if (!isObject(model)) return [];
  note(model["rate-limit"], "model.rate-limit", rateLimitKeys);
  const services = isObject(model.services) ? model.services : {};
  for (const [type, service] of Object.entries(services)) {
    if (!isObject(service)) continue;
    note(service["rate-limit"], `model.services.${type}.rate-limit`, rateLimitKeys);
    const instances = Array.isArray(service.instances) ? service.instances : [];
    instances.forEach((instance: unknown, index) => {
      const path = `model.services.${type}.instances[${index}]`;
      note(instance, path, IGNORED_JAIROUTER_KEYS.instance);
      if (isObject(instance)) note(instance["rate-limit"], `${path}.rate-limit`, rateLimitKeys);
    });
  }
  return [...found.values()].map(({ why, paths }) => {
    const shown = paths.length > 3
      ? `${paths.slice(0, 3).join(", ")} and ${paths.length - 3} more`
      : paths.join(", ");
    return `${shown}: ignored (${why})`;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Formats a problem as `path (line N): message`. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? "" : ` (line ${problem.line})`;
  return `${problem.path}${where}: ${problem.message}`;
}

function problemsOf(
  issue: z.core.$ZodIssue,
  validated: Validated,
  lineOf: (path: readonly PropertyKey[], key?: string) => number | undefined,
  overrides: readonly ConfigOverride[],
): ConfigProblem[] {
  return issueProblems(issue, validated).map(({ path: at, message, at: where }) => {
    const path = formatPath(at);
    const override = overrides.find((candidate) => formatPath(candidate.path) === path);
    if (override) return { path, message: `${message} (set by ${override.origin})` };
    return withLine({ path, message }, lineOf(where.path, where.key));
  });
}

function withLine(problem: ConfigProblem, line: number | undefined): ConfigProblem {
  return line === undefined ? problem : { ...problem, line };
}

function keyNode(parent: unknown, key: string): unknown {
  if (!isMap(parent)) return undefined;
  return parent.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.key;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.map((part, index) =>
    typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`
  ).join("");
}

function applyOverrides(raw: unknown, overrides: readonly ConfigOverride[]): void {
  for (const { path, value } of overrides) {
    let target = raw as Record<string, unknown>;
    if (typeof target !== "object" || target === null) return;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (typeof next !== "object" || next === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = value;
  }
}
