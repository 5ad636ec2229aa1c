import assert from "node:assert/strict";
import {
  API_KEYS,
  API_KEYS_CHANGED,
  AUDIT,
  CONFIG_BODY,
  CONFIG_HEAD,
  CONFIG_META,
  CONFIG_WRITER,
  LIMITERS,
  SHARED_COUNTS,
  TEAMS,
} from "./keys.ts";

// A store written by an earlier version must still load: these prefixes are what lies on disk.
Deno.test("key prefixes are those a store written by an earlier version holds", () => {
  assert.deepEqual(
    {
      CONFIG_HEAD,
      CONFIG_META,
      CONFIG_BODY,
      CONFIG_WRITER,
      LIMITERS,
      AUDIT,
      API_KEYS,
      API_KEYS_CHANGED,
      TEAMS,
      SHARED_COUNTS,
    },
    {
      CONFIG_HEAD: ["switchyard", "config", "head"],
      CONFIG_META: ["switchyard", "config", "meta"],
      CONFIG_BODY: ["switchyard", "config", "body"],
      CONFIG_WRITER: ["switchyard", "config", "writer"],
      LIMITERS: ["switchyard", "limiters"],
      AUDIT: ["switchyard", "audit"],
      API_KEYS: ["switchyard", "api-keys"],
      API_KEYS_CHANGED: ["switchyard", "api-keys-changed"],
      TEAMS: ["switchyard", "teams"],
      SHARED_COUNTS: ["switchyard", "shared-counts"],
    },
  );
});
