import assert from "node:assert/strict";
import { BodyCut } from "./body_cut.ts";
import { relayBody, type RelayEnd } from "./relay.ts";

function source(chunks: string[], options: { fail?: boolean } = {}) {
  const encoder = new TextEncoder();
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next !== undefined) controller.enqueue(encoder.encode(next));
      else if (options.fail) controller.error(new Error("reset"));
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

function relay(stream: ReadableStream<Uint8Array>) {
  const ends: RelayEnd[] = [];
  let cancels = 0;
  const body = relayBody(stream, {
    idleTimeout: 0,
    onIdle: () => assert.fail("no idle timeout configured"),
    onCancel: () => cancels++,
    onEnd: (end) => ends.push(end),
  });
  return { body, ends, cancels: () => cancels };
}

Deno.test("relays every chunk unchanged and ends once", async () => {
  const { stream } = source(["data: a\n\n", "data: b\n\n", "data: [DONE]\n\n"]);
  const { body, ends } = relay(stream);
  assert.equal(await new Response(body).text(), "data: a\n\ndata: b\n\ndata: [DONE]\n\n");
  assert.deepEqual(ends, [{ kind: "done" }]);
});

Deno.test("a client that cancels ends the relay once and cancels the source", async () => {
  const { stream, cancelled } = source(["one", "two", "three"]);
  const { body, ends, cancels } = relay(stream);
  const reader = body.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "one");
  await reader.cancel("gone");
  assert.deepEqual(ends, [{ kind: "cancelled" }]);
  assert.equal(cancels(), 1);
  assert.ok(cancelled());
});

Deno.test("a failing source fails the relay once, and cuts the body with a BodyCut", async () => {
  const { stream } = source(["one"], { fail: true });
  const { body, ends } = relay(stream);
  const reader = body.getReader();
  await reader.read();
  await assert.rejects(reader.read(), (error: unknown) => {
    assert.ok(error instanceof BodyCut);
    assert.equal((error.cause as Error).message, "reset");
    return true;
  });
  assert.equal(ends.length, 1);
  assert.equal(ends[0]!.kind, "failed");
});

Deno.test("a source quiet for longer than the idle timeout is reported", async () => {
  let idle!: () => void;
  const wentIdle = new Promise<void>((resolve) => idle = resolve);
  const quiet = new ReadableStream<Uint8Array>({ pull: () => wentIdle });
  const body = relayBody(quiet, {
    idleTimeout: 5,
    onIdle: idle,
    onCancel: () => {},
    onEnd: () => {},
  });
  const reader = body.getReader();
  const read = reader.read();
  await wentIdle;
  await reader.cancel();
  await read;
});

/** A source of `count` chunks, each there at once, counting how many were read from it. */
function countedSource(count: number) {
  let read = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (read === count) return controller.close();
      controller.enqueue(new Uint8Array([read++]));
    },
  }, { highWaterMark: 0 });
  return { stream, read: () => read };
}

/** Lets every task ready to run, run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("a client that does not read holds the relay at one chunk read ahead", async () => {
  const { stream, read } = countedSource(10);
  const reader = relay(stream).body.getReader();
  assert.deepEqual((await reader.read()).value, new Uint8Array([0]));
  await settle();
  assert.ok(read() <= 2, `${read()} chunks read for a client that took one`);
  const rest: number[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    rest.push(...next.value);
  }
  assert.deepEqual(rest, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("a client waiting for chunks gets each one as it arrives, in order", async () => {
  const chunks: ReadableStreamDefaultController<Uint8Array>[] = [];
  const source = new ReadableStream<Uint8Array>({ start: (c) => void chunks.push(c) });
  const { body, ends } = relay(source);
  const reader = body.getReader();
  const controller = chunks[0]!;
  for (let index = 0; index < 3; index++) {
    const next = reader.read();
    controller.enqueue(new Uint8Array([index]));
    assert.deepEqual((await next).value, new Uint8Array([index]));
  }
  controller.close();
  assert.equal((await reader.read()).done, true);
  assert.deepEqual(ends, [{ kind: "done" }]);
});
