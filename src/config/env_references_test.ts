import assert from "node:assert/strict";
import { envReferences, resolveEnvReferences } from "./env_references.ts";

const environment = (name: string) => ({ KEY: "sk-1", EMPTY: "" } as Record<string, string>)[name];

Deno.test("resolveEnvReferences replaces each ${NAME}, and leaves other text as written", () => {
  assert.deepEqual(resolveEnvReferences("${KEY}", environment), { ok: true, value: "sk-1" });
  assert.deepEqual(resolveEnvReferences("Bearer ${KEY}/${KEY}", environment), {
    ok: true,
    value: "Bearer sk-1/sk-1",
  });
  for (const text of ["sk-$KEY", "$KEY", "${}", "${1X}", "{KEY}", "sk-${"]) {
    assert.deepEqual(resolveEnvReferences(text, environment), { ok: true, value: text });
  }
});

Deno.test("resolveEnvReferences takes a written default, and names the first variable unset", () => {
  assert.deepEqual(resolveEnvReferences("${UNSET:fallback}", environment), {
    ok: true,
    value: "fallback",
  });
  assert.deepEqual(resolveEnvReferences("${UNSET:}", environment), { ok: true, value: "" });
  assert.deepEqual(resolveEnvReferences("${EMPTY:x}", environment), { ok: true, value: "" });
  assert.deepEqual(resolveEnvReferences("${KEY}${UNSET}${OTHER}", environment), {
    ok: false,
    missing: "UNSET",
  });
});

Deno.test("envReferences lists the names referred to", () => {
  assert.deepEqual(envReferences("a ${A} b ${B_2:x} ${3}"), ["A", "B_2"]);
});
