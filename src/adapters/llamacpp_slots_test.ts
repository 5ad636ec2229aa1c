import assert from "node:assert/strict";
import { readLlamaCppSlots } from "./llamacpp_slots.ts";

Deno.test("llama.cpp slots: the busy ones are the requests running", () => {
  const slots = [
    { id: 0, n_ctx: 4096, is_processing: true, next_token: { n_decoded: 12 } },
    { id: 1, n_ctx: 4096, is_processing: false },
    { id: 2, n_ctx: 4096, is_processing: true },
  ];
  assert.deepEqual(readLlamaCppSlots(slots), { running: 2 });
  assert.deepEqual(readLlamaCppSlots([{ id: 0, state: 1 }, { id: 1, state: 0 }]), { running: 1 });
  assert.deepEqual(readLlamaCppSlots([]), { running: 0 });
});

Deno.test("llama.cpp slots: an answer that is no slot list is refused", () => {
  assert.throws(() => readLlamaCppSlots({ error: "no slots" }), /array of slots/);
  assert.throws(() => readLlamaCppSlots([1]), /slots\[0\] in \/slots/);
});
