import assert from "node:assert/strict";
import { isSecretHeader, keepStoredSecrets, REDACTED, redactSecrets } from "./secrets.ts";

Deno.test("secret headers are told by their names", () => {
  for (const name of ["Authorization", "proxy-authorization", "Cookie", "x-api-key", "X-Auth"]) {
    assert.ok(isSecretHeader(name), name);
  }
  for (const name of ["X-Team", "Accept", "x-request-id"]) assert.ok(!isSecretHeader(name), name);
});

Deno.test("values that only name environment variables are shown as written", () => {
  const instance = {
    "api-key": "${OPENAI_KEY}",
    headers: {
      Authorization: "Bearer ${TOKEN}",
      "X-Key": "Basic ${USER:anonymous}",
      Cookie: "session=${SESSION}",
      "X-Api-Key": "sk-abc${SUFFIX}",
    },
  };
  assert.deepEqual(redactSecrets(instance), {
    "api-key": "${OPENAI_KEY}",
    headers: {
      Authorization: "Bearer ${TOKEN}",
      "X-Key": "Basic ${USER:anonymous}",
      Cookie: REDACTED,
      "X-Api-Key": REDACTED,
    },
  });
});

Deno.test("redaction reaches secrets at any depth and leaves the rest alone", () => {
  const entry = {
    action: "update",
    after: { instances: [{ name: "m", apiKey: "sk-1", weight: 2, headers: { "X-Team": "a" } }] },
  };
  assert.deepEqual(redactSecrets(entry), {
    action: "update",
    after: { instances: [{ name: "m", apiKey: REDACTED, weight: 2, headers: { "X-Team": "a" } }] },
  });
});

Deno.test("a redaction written back takes the value of the instance of the same identity", () => {
  const stored = {
    services: {
      chat: {
        instances: [
          { name: "a", "base-url": "http://h:1", "api-key": "sk-a" },
          { name: "b", "base-url": "http://h:2", headers: { Authorization: "Bearer b" } },
        ],
      },
    },
  };
  const written = {
    services: {
      chat: {
        instances: [
          { name: "b", "base-url": "http://h:2/", headers: { Authorization: REDACTED } },
          { name: "a", "base-url": "http://h:1", "api-key": REDACTED, weight: 3 },
        ],
      },
    },
  };
  const kept = keepStoredSecrets(written, stored);
  assert.deepEqual(kept.problems, []);
  assert.deepEqual(kept.model, {
    services: {
      chat: {
        instances: [
          { name: "b", "base-url": "http://h:2/", headers: { Authorization: "Bearer b" } },
          { name: "a", "base-url": "http://h:1", "api-key": "sk-a", weight: 3 },
        ],
      },
    },
  });
  const orphan = keepStoredSecrets({
    services: {
      chat: { instances: [{ name: "c", "base-url": "http://h:3", "api-key": REDACTED }] },
    },
  }, stored);
  assert.deepEqual(orphan.problems.map((problem) => problem.path), [
    "model.services.chat.instances[0].api-key",
  ]);
});
