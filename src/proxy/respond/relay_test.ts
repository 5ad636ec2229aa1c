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
