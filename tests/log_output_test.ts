/**
 * With JSON logs, everything the gateway prints is one JSON object a line, whatever goes wrong
 * on the way: backends that break off or misbehave, a backend that is down, bad admin requests,
 * a client that leaves, a config file that no longer loads. A log shipper never meets a raw
 * stack trace.
 */
import assert from "node:assert/strict";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, spawnGateway, withTempConfig } from "./fixtures/gateway.ts";
import { closedPortUrl } from "./fixtures/ports.ts";
import { startScriptedServer } from "./fixtures/raw_http.ts";
import { postChat } from "./fixtures/requests.ts";

/** A backend whose answer to each request is chosen by a marker in the request's body. */
function misbehavingBackend() {
  return startScriptedServer(async (peer) => {
    const { body } = await peer.readRequest();
    if (body.includes("ndjson-cut")) {
      // One NDJSON line of a streamed answer, then the connection closes midway.
      await peer.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n" +
          'transfer-encoding: chunked\r\n\r\n9\r\n{"a": 1}\n\r\n',
      );
    } else if (body.includes("sse-cut")) {
      await peer.write(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
          'transfer-encoding: chunked\r\n\r\n10\r\ndata: {"a":1}\n\n\r\n',
      );
    } else if (body.includes("json-cut")) {
      await peer.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
      );
    } else {
      await peer.write("NOT HTTP AT ALL\r\n\r\n");
    }
  });
}

/** The lines of `text` that are not a JSON object. */
function notJsonLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "").filter((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed !== "object" || parsed === null || Array.isArray(parsed);
    } catch {
      return true;
    }
  });
}

Deno.test("with JSON logs, every line printed is JSON whatever goes wrong", async () => {
  await using backend = misbehavingBackend();
  const dead = closedPortUrl();
  const yaml = [
    "log: { format: json }",
    "server: { retries: 0 }",
    "model:",
    "  health-check: { interval: 60000 }",
    "  services:",
    "    chat:",
    "      instances:",
    `        - { name: flaky, base-url: "${backend.url}" }`,
    `        - { name: gone, base-url: "${dead}", discover: true }`,
  ].join("\n");
  await withTempConfig(yaml, async (path) => {
    // The dead instance's first health probe fails at start.
    await using gateway = await spawnGateway(["--config", path]);
    const chat = (body: Record<string, unknown>, init: RequestInit = {}) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        ...init,
      }).then((response) => response.text()).catch((error: unknown) => String(error));

    await chat({ model: "flaky", stream: true, marker: "ndjson-cut" });
    await gateway.waitForOutput("upstream_broken");
    await chat({ model: "flaky", stream: true, marker: "sse-cut" });
    await chat({ model: "flaky", marker: "json-cut" });
    await chat({ model: "flaky", marker: "not-http" });
    await chat({ model: "gone" });

    // A client that leaves as soon as its stream has started.
    const leaving = new AbortController();
    const started = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "flaky", stream: true, marker: "ndjson-cut" }),
      signal: leaving.signal,
    });
    leaving.abort();
    await started.body?.cancel().catch(() => {});

    for (
      const [method, route, body] of [
        ["POST", "/admin/services/chat/instances", "{not json"],
        ["PUT", "/admin/config", "null"],
        ["DELETE", "/admin/services/chat/instances/%E0%A4%A", undefined],
        ["GET", "/admin/config/versions/99999999999999999999", undefined],
      ] as const
    ) {
      const response = await fetch(`${gateway.url}${route}`, {
        method,
        headers: { "content-type": "application/json", "if-match": "*" },
        ...(body === undefined ? {} : { body }),
      });
      await response.body?.cancel();
      assert.ok(response.status >= 400, `${method} ${route} is refused`);
    }

    await Deno.writeTextFile(path, "model: [unclosed");
    gateway.process.kill("SIGHUP");
    await gateway.waitForOutput("SIGHUP: the running config stays");

    gateway.process.kill("SIGTERM");
    const { code, stdout, stderr } = await gateway.exited();
    assert.equal(code, 0);
    assert.deepEqual(notJsonLines(stdout), [], "every stdout line is a JSON object");
    assert.deepEqual(notJsonLines(stderr), [], "every stderr line is a JSON object");
    // A backend breaking off is told in its request line, not as a bug of the gateway.
    assert.ok(!stdout.includes("Unexpected error"), stdout);
  });
});

Deno.test("a log reader that falls behind does not hold requests up, and loses no line", async () => {
  await using backend = await startFakeBackend({ name: "quick" });
  await withTempConfig(
    oneService("chat", [backend.url], { server: "log: { format: json }\n" }),
    async (path) => {
      await using gateway = await spawnGateway(["--config", path]);
      // Nothing reads the gateway's output while these run: far more log lines than a pipe
      // holds (64 KiB on Linux) pile up behind it.
      const requests = 1000;
      let sent = 0;
      const client = async () => {
        while (sent < requests) {
          sent++;
          const response = await postChat(gateway.url, {}, { signal: AbortSignal.timeout(10_000) });
          assert.equal(response.status, 200);
          await response.body?.cancel();
        }
      };
      await Promise.all(Array.from({ length: 10 }, client));
      gateway.process.kill("SIGTERM");
      const result = await gateway.exited();
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(
        lines.filter((line) => line.service === "chat" && line.status === 200).length,
        requests,
      );
    },
  );
});
