/**
 * New requests take turns with the work in flight: a burst arriving at once is served in full,
 * some of it after waiting for a turn of the event loop, as the metrics show.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, spawnGateway, withTempConfig } from "./fixtures/gateway.ts";
import { scrape } from "./fixtures/prometheus.ts";
import { postChat } from "./fixtures/requests.ts";

const BURST = 400;

Deno.test("a burst of requests arriving at once is answered in full, some after their turn", async () => {
  await using backend = await startFakeBackend({ name: "b" });
  await withTempConfig(oneService("chat", [backend.url]), async (path) => {
    await using gateway = await spawnGateway(["--config", path]);
    const before = await scrape(gateway.url);
    assert.equal(before.value("switchyard_turn_waits_total"), 0);

    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const streamed = i % 2 === 1;
        const response = await postChat(gateway.url, { stream: streamed });
        return { status: response.status, text: await response.text(), streamed };
      }),
    );
    for (const { status, text, streamed } of answers) {
      assert.equal(status, 200, text);
      if (streamed) assert.match(text, /data: \[DONE\]\n\n$/);
      else assert.equal(JSON.parse(text).backend, "b");
    }
    assert.equal(backend.requests.length, BURST);

    const after = await scrape(gateway.url);
    const waited = after.value("switchyard_turn_waits_total") ?? 0;
    assert.ok(waited > 0, "some of the burst waited for a turn");
    assert.ok(waited < BURST, "the first of the burst began at once");
    assert.equal(after.value("switchyard_turn_waiting"), 0);
  });
});
