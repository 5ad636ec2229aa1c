import assert from "node:assert/strict";
import { SecretBox } from "./secret_box.ts";
import { secretBoxFromEnvironment, SecretKeyError } from "./secret_keys.ts";

const KEY_A = "a-key-of-at-least-sixteen-characters";
const KEY_B = "another-key-of-sixteen-characters";

function environment(values: Record<string, string>) {
  return (name: string) => values[name];
}

Deno.test("no key in the environment seals nothing", async () => {
  assert.equal(await secretBoxFromEnvironment(environment({})), undefined);
});

Deno.test("the key comes from the variable or its file, previous keys by comma or line", async () => {
  const direct = await secretBoxFromEnvironment(environment({ SWITCHYARD_SECRET_KEY: KEY_B }));
  const files: Record<string, string> = { "/run/key": `${KEY_B}\n`, "/run/old": `${KEY_A}\n` };
  const fromFiles = await secretBoxFromEnvironment(
    environment({
      SWITCHYARD_SECRET_KEY_FILE: "/run/key",
      SWITCHYARD_PREVIOUS_SECRET_KEYS_FILE: "/run/old",
    }),
    (path) => Promise.resolve(files[path]!),
  );
  assert.equal(fromFiles?.keyId, direct?.keyId);
  const sealedWithA = await (await SecretBox.create(KEY_A)).seal("sk-1");
  assert.equal(await fromFiles!.open(sealedWithA), "sk-1");
  const listed = await secretBoxFromEnvironment(
    environment({
      SWITCHYARD_SECRET_KEY: KEY_B,
      SWITCHYARD_PREVIOUS_SECRET_KEYS: ` other-old-key-sixteen-chars , ${KEY_A}`,
    }),
  );
  assert.equal(await listed!.open(sealedWithA), "sk-1");
});

Deno.test("settings that cannot be used are refused, saying why", async () => {
  const refused = async (values: Record<string, string>, message: RegExp) =>
    await assert.rejects(
      secretBoxFromEnvironment(environment(values), () => Promise.reject(new Error("no file"))),
      (error: Error) => error instanceof SecretKeyError && message.test(error.message),
    );
  await refused(
    { SWITCHYARD_SECRET_KEY: KEY_A, SWITCHYARD_SECRET_KEY_FILE: "/k" },
    /SWITCHYARD_SECRET_KEY or SWITCHYARD_SECRET_KEY_FILE, not both/,
  );
  await refused({ SWITCHYARD_SECRET_KEY_FILE: "/k" }, /"\/k", which cannot be read/);
  await refused({ SWITCHYARD_SECRET_KEY: "short" }, /at least 16 characters/);
  await refused(
    { SWITCHYARD_PREVIOUS_SECRET_KEYS: KEY_A },
    /without SWITCHYARD_SECRET_KEY, the key to seal with/,
  );
});
