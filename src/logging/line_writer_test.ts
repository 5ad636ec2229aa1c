import assert from "node:assert/strict";
import { LineWriter, type LineWriterOptions } from "./line_writer.ts";

const decoder = new TextDecoder();

/**
 * An output that records what is written to it. Background writes wait until `release` is
 * called when `held`, and write at most `chunk` bytes each.
 */
function output(settings: { held?: boolean; chunk?: number } = {}) {
  const written: string[] = [];
  const synchronously: string[] = [];
  const waiting: (() => void)[] = [];
  let held = settings.held ?? false;
  let failing = false;
  const chunk = settings.chunk ?? Infinity;
  const options: Pick<LineWriterOptions, "write" | "writeSync"> = {
    write(bytes) {
      const count = Math.min(chunk, bytes.length);
      // The writer must leave the bytes alone until the write settles: read them then.
      const finish = () => written.push(decoder.decode(bytes.subarray(0, count)));
      if (failing) return Promise.reject(new Error("broken pipe"));
      if (!held) {
        finish();
        return Promise.resolve(count);
      }
      return new Promise((resolve) => waiting.push(() => (finish(), resolve(count))));
    },
    writeSync(bytes) {
      synchronously.push(decoder.decode(bytes));
      return bytes.length;
    },
  };
  return {
    options,
    written,
    synchronously,
    /** Lets the writes waiting go, and those after them too. */
    release() {
      held = false;
      for (const go of waiting.splice(0)) go();
    },
    fail() {
      failing = true;
    },
  };
}

Deno.test("the line writer batches lines until its delay or a full buffer", async () => {
  const out = output();
  const writer = new LineWriter({ ...out.options, maxDelay: 60_000, maxBytes: 10 });
  writer.line("ab");
  writer.line("cd");
  await Promise.resolve();
  assert.deepEqual(out.written, [], "nothing written before the delay");
  writer.line("efghij");
  await writer.drained();
  assert.deepEqual(out.written, ["ab\ncd\n", "efghij\n"]);

  out.written.length = 0;
  writer.line("é€");
  writer.line("🌍");
  await writer.drained();
  assert.deepEqual(
    out.written,
    ["é€\n", "🌍\n"],
    "6 bytes pending leave 4, too few for 🌍 (2 UTF-16 units, 4 bytes) and its newline",
  );

  out.written.length = 0;
  writer.line("ab");
  writer.line("a line longer than the buffer");
  writer.line("cd");
  await writer.drained();
  assert.deepEqual(out.written, ["ab\n", "a line longer than the buffer\n", "cd\n"]);
});

Deno.test("the line writer writes each line at once when its delay is 0", async () => {
  const out = output();
  const writer = new LineWriter({ ...out.options, maxDelay: 0 });
  writer.line("now");
  await writer.drained();
  assert.deepEqual(out.written, ["now\n"]);
});

Deno.test("the line writer copies lines given as bytes, batched with text lines", async () => {
  const out = output();
  const writer = new LineWriter({ ...out.options, maxDelay: 60_000, maxBytes: 16 });
  const reused = new TextEncoder().encode('{"a":1}');
  writer.bytes(reused);
  reused.fill(0x78);
  writer.line("text");
  await writer.drained();
  assert.deepEqual(out.written, ['{"a":1}\ntext\n'], "the line was copied when given");
});

Deno.test("lines go on being taken while the output is slow, and come out in order", async () => {
  const out = output({ held: true, chunk: 3 });
  const writer = new LineWriter({ ...out.options, maxDelay: 0, maxBytes: 8 });
  writer.line("one");
  writer.line("two");
  writer.line("three");
  assert.deepEqual(out.written, [], "no line waits for the output");
  out.release();
  await writer.drained();
  assert.equal(
    out.written.join(""),
    "one\ntwo\nthree\n",
    "partial writes go on where they stopped",
  );
});

Deno.test("past the backlog, lines are dropped and counted, and the count told once", async () => {
  const out = output({ held: true });
  const told: number[] = [];
  const writer = new LineWriter({
    ...out.options,
    maxDelay: 0,
    maxBacklog: 10,
    onDropped: (lines) => {
      told.push(lines);
      writer.line(`dropped ${lines}`);
    },
  });
  writer.line("abc");
  writer.line("def");
  writer.line("ghi");
  writer.line("jkl");
  assert.deepEqual(told, [], "told only once the output has caught up");
  out.release();
  await writer.drained();
  assert.deepEqual(told, [2]);
  assert.deepEqual(out.written, ["abc\n", "def\n", "dropped 2\n"]);
});

Deno.test("flush writes what waits synchronously, leaving a write under way to finish", async () => {
  const out = output({ held: true });
  const writer = new LineWriter({ ...out.options, maxDelay: 60_000, maxBytes: 8 });
  writer.line("first");
  writer.line("second");
  writer.line("third");
  writer.flush();
  assert.deepEqual(out.synchronously, ["second\n", "third\n"]);
  out.release();
  await writer.drained();
  assert.deepEqual(out.written, ["first\n"], "the write under way wrote its line, only it");
});

Deno.test("a broken output loses what waited for it, and later lines are written", async () => {
  const out = output({ held: true });
  const writer = new LineWriter({ ...out.options, maxDelay: 0 });
  writer.line("lost");
  out.fail();
  out.release();
  await writer.drained();
  assert.deepEqual(out.written, ["lost\n"]);
  writer.line("also lost");
  await writer.drained();
  assert.deepEqual(out.written, ["lost\n"]);
});
