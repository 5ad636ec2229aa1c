/**
 * Generates the README's config reference from the zod schema in `src/config/schema.ts`, so
 * the reference cannot say anything the validator does not enforce.
 *
 * ```sh
 * deno run -A scripts/config_reference.ts          # print the reference
 * deno run -A scripts/config_reference.ts --write  # replace it in README.md
 * ```
 *
 * The schema is read through `z.toJSONSchema` (the input side: what a user writes). Sections
 * that occur in several places (`load-balance`, `rate-limit`…) are shown once, with every
 * place they occur.
 * @module
 */
import { z } from "zod";
import { ConfigSchema } from "../src/config/schema.ts";
import { SERVICE_TYPES } from "../src/services.ts";

/** The markers around the generated part of README.md. */
export const MARKERS = {
  start: "<!-- config-reference:start -->",
  end: "<!-- config-reference:end -->",
} as const;

/** The subset of JSON Schema that `z.toJSONSchema` produces for our config. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  format?: string;
  pattern?: string;
}

/**
 * What each section is for, shown under its heading. The schema describes keys, not sections;
 * the status lines say what the gateway does with a section today.
 */
const SECTION_NOTES: Readonly<Record<string, string>> = {
  "(root)": "The top level of the file. Every key is optional: an empty file is a valid config.",
  "server": "Switchyard's own settings. Durations are in milliseconds.",
  "server.timeouts":
    "In milliseconds: per attempt, except `body-idle`, which watches the client's request " +
    "body. There is no total timeout, so a long stream is never cut while it keeps sending.",
  "model": "JAiRouter's `model:` section, with its keys and spelling.",
  "load-balance":
    "How a service picks among the instances serving one model. Unset keys inherit, from the " +
    "most specific: `model.services.<type>.load-balance`, then `model.services.load-balance`, " +
    "then `model.load-balance`.",
  "rate-limit":
    "A limit on requests. Every section written is its own limit, and a request must pass " +
    "every limit that covers it; `scope` says what one limiter counts at the level it is " +
    "written at.",
  "circuit-breaker":
    "One breaker per instance. Unset keys inherit, from the most specific: the instance's, the " +
    "service's, then `model.circuit-breaker`.",
  "fallback":
    "What answers when every instance of a model fails: the cache (`strategy: cache`), then " +
    "`models` in order, then a 503.",
  "admin": "Who may use the admin API at `/admin` (and JAiRouter's `/api/config/instance`).",
  "auth": "Client authentication on `/v1`, off by default. Keys are accepted as " +
    "`Authorization: Bearer <key>` or `X-API-Key: <key>`.",
  "model.services": `One section per service type: ${
    SERVICE_TYPES.map((type) => `\`${type}\``).join(", ")
  }. \`load-balance\` here is JAiRouter's documented spot for the global strategy.`,
  "model.services.<type>":
    "A service's settings and instances. A service's own keys win over the global ones.",
  "model.services.<type>.instances[]":
    "One backend instance. Instances with the same `name` in a service form that model's pool.",
};

/**
 * Descriptions for keys whose schema has no `.describe()` yet. A `.describe()` in the schema
 * always wins, so moving a text there is all it takes to retire a line here.
 */
const KEY_NOTES: Readonly<Record<string, string>> = {
  "server.port": "port to listen on; 0 picks a free one",
  "model.services.<type>.adapter": "adapter of this service's instances; default `model.adapter`",
  "model.services.<type>.instances": "the backends of this service",
  "model.services.<type>.instances[].weight": "relative share of traffic",
  "model.services.<type>.instances[].adapter":
    "adapter of this instance; default the service's adapter",
  "model.services.<type>.instances[].headers":
    "headers sent upstream on every request, e.g. the backend's own `Authorization`",
};

/** Top-level sections that JAiRouter's Spring file has and Switchyard ignores. */
const FOREIGN_NOTE = "accepted so a JAiRouter file loads unchanged; ignored with a warning";

/**
 * The config reference as Markdown, without the markers, formatted as `deno fmt` formats the
 * README (so `deno fmt --check` and the README test agree).
 */
export async function renderConfigReference(): Promise<string> {
  return await formatMarkdown(rawReference());
}

/** The repository root, where `deno.json` holds the formatter's settings. */
const ROOT = new URL("../", import.meta.url);

/** Formats Markdown with the running Deno's formatter and the repository's settings. */
async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--config", new URL("deno.json", ROOT).pathname, "--ext", "md", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) {
    throw new Error(`Cannot format the config reference: ${new TextDecoder().decode(stderr)}`);
  }
  return new TextDecoder().decode(stdout);
}

function rawReference(): string {
  const input = z.toJSONSchema(ConfigSchema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  // A default behind a transform (`max-body-size`) only shows on the output side.
  const output = z.toJSONSchema(ConfigSchema, {
    io: "output",
    unrepresentable: "any",
  }) as JsonSchema;

  const { sections, sectionOf } = collectSections(input);
  const out: string[] = [
    "## Config reference",
    "",
    "Generated from `src/config/schema.ts` by `deno run -A scripts/config_reference.ts --write`;",
    "do not edit by hand. Keys keep JAiRouter's spelling. A key not listed here is an error.",
  ];
  for (const section of sections) {
    out.push("", `### \`${section.title}\``, "");
    const note = SECTION_NOTES[section.title] ?? SECTION_NOTES[section.name];
    if (note) out.push(note, "");
    if (section.places.length > 1 || section.places[0] !== section.title) {
      out.push(`Found at: ${section.places.map((place) => `\`${place}\``).join(", ")}.`, "");
    }
    out.push("| Key | Type | Default | Description |", "| --- | --- | --- | --- |");
    for (const [key, property] of Object.entries(section.schema.properties ?? {})) {
      const path = section.title === "(root)" ? key : `${section.title}.${key}`;
      const required = section.schema.required?.includes(key) ?? false;
      const fallbackDefault = defaultAt(output, section.firstPath, key);
      const child = property.properties ?? property.items?.properties
        ? sectionOf(property.items?.properties ? property.items : property)
        : mapValueSection(property) && sectionOf(mapValueSection(property)!);
      out.push(row(key, property, { path, required, fallbackDefault, child }));
    }
  }
  return out.join("\n") + "\n";
}

interface Section {
  /** The last key of its first place: `load-balance`. */
  readonly name: string;
  /** Its heading: the path for a section found once, else its name. */
  title: string;
  readonly schema: JsonSchema;
  /** Every place it occurs, with service types shown as `<type>`. */
  readonly places: string[];
  /** The raw JSON path of the first place, to look things up in the output schema. */
  readonly firstPath: readonly string[];
}

/** Sections with the same keys and types are one section, wherever they occur. */
function shapeOf(schema: JsonSchema): string {
  return JSON.stringify({ ...schema, default: undefined, description: undefined });
}

/** Finds every object section depth-first, merging sections with the same shape. */
function collectSections(root: JsonSchema): {
  sections: Section[];
  sectionOf: (schema: JsonSchema) => Section | undefined;
} {
  const byShape = new Map<string, Section>();
  const sections: Section[] = [];
  const visit = (schema: JsonSchema, path: readonly string[], display: string) => {
    const shape = shapeOf(schema);
    const known = byShape.get(shape);
    if (known) {
      if (!known.places.includes(display)) known.places.push(display);
      return;
    }
    const name = display.split(".").at(-1)!;
    const section: Section = { name, title: display, schema, places: [display], firstPath: path };
    byShape.set(shape, section);
    sections.push(section);
    for (const [key, property] of Object.entries(schema.properties ?? {})) {
      const segment = (SERVICE_TYPES as readonly string[]).includes(key) &&
          path.at(-1) === "services"
        ? "<type>"
        : key;
      const childDisplay = display === "(root)" ? segment : `${display}.${segment}`;
      const mapValue = mapValueSection(property);
      if (property.properties) visit(property, [...path, key], childDisplay);
      else if (property.items?.properties) {
        visit(property.items, [...path, key, "[]"], `${childDisplay}[]`);
      } else if (mapValue) visit(mapValue, [...path, key, "<name>"], `${childDisplay}.<name>`);
    }
  };
  visit(root, [], "(root)");
  // A section found in several places is titled by its name alone.
  for (const section of sections) {
    if (section.places.length > 1) section.title = section.name;
  }
  return { sections, sectionOf: (schema) => byShape.get(shapeOf(schema)) };
}

/** The section each value of a map of sections is (`model-groups.<name>`), if it is one. */
function mapValueSection(schema: JsonSchema): JsonSchema | undefined {
  const value = schema.additionalProperties;
  return typeof value === "object" && value.properties ? value : undefined;
}

function defaultAt(root: JsonSchema, path: readonly string[], key: string): unknown {
  let node: JsonSchema | undefined = root;
  for (const part of path) {
    node = part === "[]"
      ? node?.items
      : part === "<name>"
      ? mapValueSection(node ?? {})
      : node?.properties?.[part];
  }
  return node?.properties?.[key]?.default;
}

function row(
  key: string,
  schema: JsonSchema,
  options: {
    path: string;
    required: boolean;
    fallbackDefault: unknown;
    child: Section | undefined;
  },
): string {
  let description = schema.description ?? KEY_NOTES[options.path] ?? "";
  if (options.child) description = joinText(description, `see \`${options.child.title}\``);
  if (!schema.type && !schema.anyOf && !schema.enum) description = FOREIGN_NOTE;
  const value = schema.default ?? options.fallbackDefault;
  const shownDefault = options.required
    ? "required"
    : value === undefined || isEmptyObject(value)
    ? ""
    : `\`${JSON.stringify(value).replace(/^"(.*)"$/, "$1")}\``;
  return `| \`${key}\` | ${cell(typeOf(schema))} | ${cell(shownDefault)} | ${cell(description)} |`;
}

function joinText(first: string, second: string): string {
  return first ? `${first}; ${second}` : second;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 0;
}

/** Escapes what would break a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A short human description of a schema's type and constraints. */
function typeOf(schema: JsonSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((value) => `\`${value}\``).join(", ")}`;
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" or ");
  if (Array.isArray(schema.type)) {
    return schema.type.map((type) => typeOf({ ...schema, type })).join(" or ");
  }
  switch (schema.type) {
    case "integer":
    case "number":
      return schema.type + range(schema);
    case "string":
      return stringType(schema);
    case "boolean":
      return "boolean";
    case "array":
      return schema.items?.properties
        ? "list of sections"
        : `list of ${typeOf(schema.items ?? {})}`;
    case "object":
      if (schema.properties) return "section";
      if (typeof schema.additionalProperties === "object") {
        return `map of string to ${typeOf(schema.additionalProperties)}`;
      }
      return "map";
    default:
      return "any";
  }
}

function range(schema: JsonSchema): string {
  const max = schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER
    ? schema.maximum
    : undefined;
  if (schema.exclusiveMinimum !== undefined) {
    return max === undefined
      ? ` > ${schema.exclusiveMinimum}`
      : ` > ${schema.exclusiveMinimum}, ≤ ${max}`;
  }
  if (schema.minimum !== undefined) {
    return max === undefined ? ` ≥ ${schema.minimum}` : `, ${schema.minimum} to ${max}`;
  }
  return max === undefined ? "" : ` ≤ ${max}`;
}

function stringType(schema: JsonSchema): string {
  if (schema.format === "uri") return "URL";
  if (schema.format === "starts_with" && schema.pattern) {
    const prefix = /^\^(.*)\.\*$/.exec(schema.pattern)?.[1]?.replace(/\\(.)/g, "$1");
    if (prefix !== undefined) return `string starting with \`${prefix}\``;
  }
  if (schema.minLength === 1) return "non-empty string";
  return "string";
}

/** Puts `reference` between the markers of `readme`; throws when a marker is missing. */
export function replaceReference(readme: string, reference: string): string {
  const start = readme.indexOf(MARKERS.start);
  const end = readme.indexOf(MARKERS.end);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(
      `Cannot update README: the markers "${MARKERS.start}" and "${MARKERS.end}" are missing`,
    );
  }
  return readme.slice(0, start + MARKERS.start.length) + "\n\n" + reference + "\n" +
    readme.slice(end);
}

/** The part of `readme` between the markers, without the blank lines around it. */
export function extractReference(readme: string): string | undefined {
  const start = readme.indexOf(MARKERS.start);
  const end = readme.indexOf(MARKERS.end);
  if (start === -1 || end === -1 || end < start) return undefined;
  return readme.slice(start + MARKERS.start.length, end).trim();
}

if (import.meta.main) {
  const reference = await renderConfigReference();
  if (Deno.args.includes("--write")) {
    const file = new URL("README.md", ROOT);
    const readme = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, replaceReference(readme, reference));
    console.log("README.md: config reference updated");
  } else {
    console.log(reference.trimEnd());
  }
}
