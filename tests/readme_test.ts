/**
 * Keeps the README honest: its config reference is the one generated from the schema, and
 * every config it shows or links to loads.
 */
import assert from "node:assert/strict";
import { extractReference, MARKERS, renderConfigReference } from "../scripts/config_reference.ts";
import { parseConfig } from "../src/config/load.ts";

const README = new URL("../README.md", import.meta.url);
const readme = await Deno.readTextFile(README);

/** A fenced YAML block, and the line its text starts on. */
interface YamlBlock {
  readonly info: string;
  readonly text: string;
  readonly line: number;
}

/** Every ```yaml (or ```yml) block; the words after the language are its info. */
function yamlBlocks(markdown: string): YamlBlock[] {
  const blocks: YamlBlock[] = [];
  const fence = /^```ya?ml([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const line = markdown.slice(0, match.index).split("\n").length + 1;
    blocks.push({ info: match[1]!.trim(), text: match[2]!, line });
  }
  return blocks;
}

Deno.test("README: the config reference matches the schema", async () => {
  const inReadme = extractReference(readme);
  assert.ok(
    inReadme !== undefined,
    `README.md needs the markers ${MARKERS.start} and ${MARKERS.end}`,
  );
  assert.equal(
    inReadme,
    (await renderConfigReference()).trim(),
    "README.md's config reference is out of date: run " +
      "`deno run -A scripts/config_reference.ts --write`",
  );
});

Deno.test("README: every YAML block not marked not-config is a valid config", () => {
  const blocks = yamlBlocks(readme).filter((block) =>
    !block.info.split(/\s+/).includes("not-config")
  );
  assert.ok(blocks.length > 0, "README.md shows no config example");
  for (const block of blocks) {
    // parseConfig throws a ConfigError naming every problem, which fails the test with it.
    parseConfig(block.text, { source: `README.md, the YAML block at line ${block.line}` });
  }
});

Deno.test("README: every config file it links to exists and is valid", async () => {
  const linked = new Set(
    [...readme.matchAll(/\]\((config\/[\w./-]+\.ya?ml)\)/g)].map((match) => match[1]!),
  );
  assert.ok(linked.size > 0, "README.md links to no config file");
  for (const path of linked) {
    const text = await Deno.readTextFile(new URL(`../${path}`, import.meta.url));
    parseConfig(text, { source: path });
  }
});
