import assert from "node:assert/strict";
import { catchesSignal, firstThatOpens, memoryTrim, SIGUSR2, tcpConnect } from "./runtime.ts";

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

Deno.test("without DENO_USR2_MEMORY_TRIM there is no memory trim: SIGUSR2 would end the process", () => {
  assert.equal(memoryTrim(() => undefined), undefined);
});

Deno.test("a signal is caught when its bit is set in the SigCgt mask", () => {
  const status = "Name:\tdeno\nSigBlk:\t0000000000000000\nSigCgt:\t0000000180000800\n";
  assert.equal(catchesSignal(SIGUSR2, status), true);
  assert.equal(catchesSignal(10, status), false);
  assert.equal(catchesSignal(32, status), true);
  assert.equal(catchesSignal(SIGUSR2, "Name:\tdeno\n"), false);
  assert.equal(catchesSignal(SIGUSR2, undefined), false);
});

Deno.test("a process started with DENO_USR2_MEMORY_TRIM trims its memory and goes on", async () => {
  const runtime = JSON.stringify(new URL("./runtime.ts", import.meta.url).href);
  const script = `
    import { catchesSignal, memoryTrim, readOwnStatus, SIGUSR2 } from ${runtime};
    const trim = memoryTrim((name) => Deno.env.get(name));
    if (trim === undefined) throw new Error("no memory trim");
    // Until Deno's handler is in place, a release sends nothing.
    while (!catchesSignal(SIGUSR2, readOwnStatus())) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    trim.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    console.log("still running, rss " + (trim.rss() > 0));
  `;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    env: { DENO_USR2_MEMORY_TRIM: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  assert.equal(decoder.decode(stdout).trim(), "still running, rss true");
});

Deno.test("a release before Deno catches SIGUSR2 sends nothing", async () => {
  // Without the variable Deno installs no handler: the release must not end the process.
  const runtime = JSON.stringify(new URL("./runtime.ts", import.meta.url).href);
  const script = `
    import { memoryTrim } from ${runtime};
    memoryTrim(() => "1")!.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    console.log("still running");
  `;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    clearEnv: true,
    env: withoutMemoryTrim(Deno.env.toObject()),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  assert.equal(decoder.decode(stdout).trim(), "still running");
});

/** `env` without `DENO_USR2_MEMORY_TRIM`, which Deno honours whatever its value. */
function withoutMemoryTrim(env: Record<string, string>): Record<string, string> {
  const { DENO_USR2_MEMORY_TRIM: _, ...rest } = env;
  return rest;
}
