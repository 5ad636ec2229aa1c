import assert from "node:assert/strict";
import { firstThatOpens, tcpConnect } from "./runtime.ts";

const never = new AbortController().signal;

Deno.test("the next address is tried when one refuses, and the first error is kept when all do", async () => {
  const tried: string[] = [];
  const open = (address: string) => {
    tried.push(address);
    return address === "127.0.0.1"
      ? Promise.resolve(`connected to ${address}`)
      : Promise.reject(new Error(`refused by ${address}`));
  };
  assert.equal(await firstThatOpens(["::1", "127.0.0.1"], open, never), "connected to 127.0.0.1");
  assert.deepEqual(tried, ["::1", "127.0.0.1"]);
  await assert.rejects(firstThatOpens(["::1", "10.0.0.1"], open, never), /refused by ::1/);
});

Deno.test("an abort stops trying addresses, with its reason", async () => {
  const controller = new AbortController();
  const reason = new Error("timed out");
  const tried: string[] = [];
  const open = (address: string) => {
    tried.push(address);
    controller.abort(reason);
    return Promise.reject(new Error("interrupted"));
  };
  await assert.rejects(firstThatOpens(["a", "b"], open, controller.signal), (e) => e === reason);
  assert.deepEqual(tried, ["a"]);
});

Deno.test("a host name is resolved and connected to", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const connection = await tcpConnect({ hostname: "localhost", port: listener.addr.port }, never);
  assert.equal(connection.remoteAddr.hostname, "127.0.0.1");
  connection.close();
  (await accepted).close();
  listener.close();
});
