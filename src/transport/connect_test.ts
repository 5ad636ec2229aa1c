import assert from "node:assert/strict";
import { addressCheck } from "../net/address_policy.ts";
import { socketConnector } from "./connect.ts";
import { AddressRefused } from "./errors.ts";

const NO_PRIVATE = addressCheck({ allowPrivate: false });
const ALLOW_PRIVATE = addressCheck({ allowPrivate: true });
const never = new AbortController().signal;

Deno.test("a checked target connects only to the resolved addresses the check allows", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connect = socketConnector({
    // A metadata address first: were it tried, the test would wait on it.
    resolve: () => Promise.resolve(["169.254.169.254", "127.0.0.1"]),
  });
  const socket = await connect({
    hostname: "gpu.test",
    port: listener.addr.port,
    tls: false,
    addressCheck: ALLOW_PRIVATE,
  }, never);
  using accepted = await listener.accept();
  assert.equal(accepted.remoteAddr.hostname, "127.0.0.1");
  socket.close();
});

Deno.test("a checked target whose every address is refused opens no connection", async () => {
  const resolved: string[] = [];
  const connect = socketConnector({
    resolve: (hostname) => {
      resolved.push(hostname);
      return Promise.resolve(["127.0.0.1", "10.1.2.3"]);
    },
  });
  await assert.rejects(
    connect({ hostname: "gpu.test", port: 9, tls: false, addressCheck: NO_PRIVATE }, never),
    (error) =>
      error instanceof AddressRefused &&
      error.message === `"gpu.test" resolves to 127.0.0.1, which is a loopback address ` +
          `(127.0.0.0/8), refused because admin.allow-private is false`,
  );
  assert.deepEqual(resolved, ["gpu.test"]);
  await assert.rejects(
    connect({ hostname: "127.0.0.1", port: 9, tls: false, addressCheck: NO_PRIVATE }, never),
    (error) =>
      error instanceof AddressRefused &&
      error.message === `127.0.0.1, which is a loopback address (127.0.0.0/8), refused ` +
          `because admin.allow-private is false`,
  );
  assert.deepEqual(resolved, ["gpu.test"], "an address is not resolved");
});
