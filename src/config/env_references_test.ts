import assert from "node:assert/strict";
import { envReferences, modelEnvReferences, resolveEnvReferences } from "./env_references.ts";

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

Deno.test("modelEnvReferences finds references in instances' api-key and headers only", () => {
  const model = {
    "rate-limit": { key: "${NOT_A_SECRET}" },
    services: {
      chat: {
        instances: [
          { name: "${NAME_IS_TEXT}", "api-key": "${A}" },
          { headers: { "X-One": "x-${B}-${C:d}", "X-Two": 2 } },
        ],
      },
      embedding: { instances: "not a list" },
    },
  };
  assert.deepEqual(modelEnvReferences(model), [
    { path: "model.services.chat.instances[0].api-key", name: "A" },
    { path: "model.services.chat.instances[1].headers.X-One", name: "B" },
    { path: "model.services.chat.instances[1].headers.X-One", name: "C" },
  ]);
  assert.deepEqual(modelEnvReferences(null), []);
});
