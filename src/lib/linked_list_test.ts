import assert from "node:assert/strict";
import { LinkedList } from "./linked_list.ts";

Deno.test("values leave a linked list in any order, each once", () => {
  const list = new LinkedList<string>();
  const [a, b, c, d] = ["a", "b", "c", "d"].map((value) => list.add(value));
  assert.deepEqual([...list], ["d", "c", "b", "a"]);
  b![Symbol.dispose]();
  b![Symbol.dispose]();
  d![Symbol.dispose]();
  assert.equal(list.size, 2);
  assert.deepEqual([...list], ["c", "a"]);
  a![Symbol.dispose]();
  c![Symbol.dispose]();
  assert.equal(list.size, 0);
  assert.deepEqual([...list], []);
});

Deno.test("values taken out while the list is walked are skipped, the rest still seen", () => {
  const list = new LinkedList<number>();
  const links = [1, 2, 3, 4, 5].map((value) => list.add(value));
  const seen: number[] = [];
  for (const value of list) {
    seen.push(value);
    // Taking out the value just seen, and the one after it.
    links[value - 1]![Symbol.dispose]();
    links[value - 2]?.[Symbol.dispose]();
  }
  assert.deepEqual(seen, [5, 3, 1]);
  assert.equal(list.size, 0);
});
