import assert from "node:assert/strict";
import { modelGroupIssues } from "./model_group_issues.ts";

const INSTANCES = ["llama3", "qwen*"];

function messages(groups: Parameters<typeof modelGroupIssues>[0]): string[] {
  return modelGroupIssues(groups, INSTANCES).map(({ path, message }) =>
    `${path.join(".")}: ${message}`
  );
}

Deno.test("members served by name or by a pattern are fine", () => {
  assert.deepEqual(messages({ auto: { members: [{ model: "llama3" }, { model: "qwen2" }] } }), []);
});

Deno.test("a member nothing serves, a member listed twice, and a member group are errors", () => {
  assert.deepEqual(
    messages({
      auto: { members: [{ model: "llama3" }, { model: "llama3" }, { model: "gpt-9" }] },
      nested: { members: [{ model: "auto" }] },
    }),
    [
      'auto.members.1.model: Model group "auto" lists the model "llama3" twice',
      'auto.members.2.model: Model group "auto" lists the model "gpt-9", which no instance serves',
      'nested.members.0.model: Model group "nested" lists the group "auto"; a member is a model',
    ],
  );
});

Deno.test("a group named like a model is an error", () => {
  assert.deepEqual(messages({ llama3: { members: [{ model: "qwen2" }] } }), [
    'llama3: Model group "llama3" has the name of a model instances serve; name it apart',
  ]);
});
