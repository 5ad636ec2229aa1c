import assert from "node:assert/strict";
import { isSealed, SecretBox } from "../store/secret_box.ts";
import { sealedSecrets } from "./sealed_secrets.ts";

const KEY_A = "a-key-of-at-least-sixteen-characters";
const KEY_B = "another-key-of-sixteen-characters";

const config = {
  model: {
    services: {
      chat: {
        instances: [{
          name: "m",
          "api-key": "sk-clear",
          headers: { Authorization: "Bearer ${TOKEN}", "X-Team": "t", Cookie: "s=1" },
        }],
      },
    },
  },
  file: { services: { chat: { instances: [{ name: "m", "api-key": "sk-clear" }] } } },
};

Deno.test("secrets in clear are sealed; references and other values stay as written", async () => {
  const codec = sealedSecrets<typeof config>(await SecretBox.create(KEY_A));
  const stored = await codec.encode(config);
  const text = JSON.stringify(stored);
  assert.ok(!text.includes("sk-clear"));
  assert.ok(!text.includes("s=1"));
  const instance = stored.model.services.chat.instances[0]!;
  assert.ok(isSealed(instance["api-key"]));
  assert.ok(isSealed(instance.headers.Cookie));
  assert.equal(instance.headers.Authorization, "Bearer ${TOKEN}");
  assert.equal(instance.headers["X-Team"], "t");
  assert.ok(isSealed(stored.file.services.chat.instances[0]!["api-key"]));
  assert.deepEqual(await codec.decode(stored), config);
  assert.ok(codec.isCurrent(stored));
  assert.ok(!codec.isCurrent(config), "secrets in clear are not as a commit stores them now");
});

Deno.test("a version sealed with a previous key is read, and is not current", async () => {
  const stored = await sealedSecrets<typeof config>(await SecretBox.create(KEY_A)).encode(config);
  const rotated = sealedSecrets<typeof config>(await SecretBox.create(KEY_B, [KEY_A]));
  assert.deepEqual(await rotated.decode(stored), config);
  assert.ok(!rotated.isCurrent(stored));
  assert.ok(rotated.isCurrent(await rotated.encode(await rotated.decode(stored))));
});

Deno.test("without a key, versions are kept as they are and sealed ones cannot be read", async () => {
  const none = sealedSecrets<typeof config>(undefined);
  assert.equal(await none.encode(config), config);
  assert.ok(none.isCurrent(config));
  const stored = await sealedSecrets<typeof config>(await SecretBox.create(KEY_A)).encode(config);
  await assert.rejects(none.decode(stored), /SWITCHYARD_SECRET_KEY/);
});
