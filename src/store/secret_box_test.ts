import assert from "node:assert/strict";
import { isSealed, sealedKeyId, SecretBox, UnsealError } from "./secret_box.ts";

const KEY_A = "a-key-of-at-least-sixteen-characters";
const KEY_B = "another-key-of-sixteen-characters";

Deno.test("a sealed secret opens to what was sealed, and never reads the same twice", async () => {
  const box = await SecretBox.create(KEY_A);
  const first = await box.seal("sk-secret");
  const second = await box.seal("sk-secret");
  assert.ok(isSealed(first));
  assert.notEqual(first, second);
  assert.ok(!first.includes("sk-secret"));
  assert.equal(sealedKeyId(first), box.keyId);
  assert.equal(await box.open(first), "sk-secret");
  assert.equal(await box.open(second), "sk-secret");
});

Deno.test("a previous key still opens what it sealed; an unknown key is named", async () => {
  const old = await SecretBox.create(KEY_A);
  const sealed = await old.seal("sk-old");
  const rotated = await SecretBox.create(KEY_B, [KEY_A]);
  assert.notEqual(rotated.keyId, old.keyId);
  assert.equal(await rotated.open(sealed), "sk-old");
  const only = await SecretBox.create(KEY_B);
  await assert.rejects(only.open(sealed), (error: Error) => {
    assert.ok(error instanceof UnsealError);
    assert.match(error.message, new RegExp(`key ${old.keyId}, which was not given`));
    return true;
  });
});

Deno.test("an altered sealed value does not open", async () => {
  const box = await SecretBox.create(KEY_A);
  const sealed = await box.seal("sk-secret");
  const last = sealed.at(-2) === "A" ? "B" : "A";
  const altered = `${sealed.slice(0, -2)}${last}${sealed.at(-1)}`;
  await assert.rejects(box.open(altered), UnsealError);
  await assert.rejects(box.open("sealed:v1:zz:abc"), UnsealError);
});

Deno.test("a key shorter than sixteen characters is refused", async () => {
  await assert.rejects(SecretBox.create("short"), RangeError);
});
