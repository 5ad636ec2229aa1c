import { deepEqual, equal } from "node:assert/strict";
import { handle } from "./fake_backend.ts";

Deno.test("the fake backend answers health checks and lists its model", async () => {
  const health = await handle(new Request("http://127.0.0.1/health"));
  equal(health.status, 200);
  await health.body?.cancel();
  const models = await handle(new Request("http://127.0.0.1/v1/models"));
  const list: { data: { id: string }[] } = await models.json();
  deepEqual(list.data.map((model) => model.id), ["bench-model"]);
});
