import assert from "node:assert/strict";
import { firstThatOpens, memoryTrim, tcpConnect } from "./runtime.ts";

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

Deno.test("a process started with DENO_USR2_MEMORY_TRIM trims its memory and goes on", async () => {
  const result = await releaseInChild({ DENO_USR2_MEMORY_TRIM: "1" });
  assert.equal(result, "still running, rss true");
});

Deno.test("a release survives a runtime that does not trim on SIGUSR2", async () => {
  // Without the variable Deno installs no handler of its own.
  const result = await releaseInChild({});
  assert.equal(result, "still running, rss true");
});

/**
 * What a child Deno process prints after releasing memory as the gateway does, at once after
 * start, with `variables` as its Deno-specific environment.
 */
async function releaseInChild(variables: Record<string, string>): Promise<string> {
  const runtime = JSON.stringify(new URL("./runtime.ts", import.meta.url).href);
  const script = `
    import { memoryTrim } from ${runtime};
    const trim = memoryTrim(() => "1");
    trim.release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    console.log("still running, rss " + (trim.rss() > 0));
    Deno.exit(0);
  `;
  const { DENO_USR2_MEMORY_TRIM: _, ...inherited } = Deno.env.toObject();
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    clearEnv: true,
    env: { ...inherited, ...variables },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  return decoder.decode(stdout).trim();
}
