/**
 * The binary: `deno task compile` fails clearly when Deno's runtime cannot be had, and the
 * gateway runs the way the binary runs it — from another directory, reading no file of the
 * repository — so a compiled binary cannot miss one.
 *
 * Nothing here downloads anything: the compile runs with `--cached-only` and a `DENORT_BIN`
 * that points nowhere.
 */
import assert from "node:assert/strict";
import { explainFailure } from "../scripts/compile.ts";
import { startFakeBackend } from "./fixtures/fake_backend.ts";
import { oneService, REPO_ROOT, spawnGateway } from "./fixtures/gateway.ts";

const BUILD = { version: "2.9.6", target: "x86_64-unknown-linux-gnu" };

/** What `deno compile` 2.9.6 prints when it cannot reach dl.deno.land. */
const DOWNLOAD_FAILED = `Compile main.ts to dist/switchyard
Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'dist/switchyard.tmp-415bba58802c76b0'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
    3: dns error
    4: failed to lookup address information: Name or service not known
`;

Deno.test("a failed download of denort is explained: where to get it and DENORT_BIN", () => {
  const guidance = explainFailure(DOWNLOAD_FAILED, BUILD);
  assert.ok(guidance !== undefined);
  assert.match(guidance, /could not download Deno's runtime/);
  assert.match(guidance, /DENORT_BIN=\/path\/to\/denort deno task compile/);
  assert.ok(
    guidance.includes("https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip"),
  );
  assert.match(guidance, /v2\.9\.6 release of github\.com\/denoland\/deno/);
});

Deno.test("a compile failure that is not about denort gets no denort guidance", () => {
  const typeError = "error: TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n";
  assert.equal(explainFailure(typeError, BUILD), undefined);
});

Deno.test("deno task compile with a DENORT_BIN that is not there fails clearly and leaves no dist/", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = `${dir}/dist/switchyard`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile", "--cached-only", "--output", output],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENORT_BIN: `${dir}/missing/denort` },
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.notEqual(result.code, 0, stderr);
    assert.ok(
      stderr.includes(`DENORT_BIN is set to "${dir}/missing/denort", but there is no file there.`),
      stderr,
    );
    assert.ok(stderr.includes(`denort-${Deno.build.target}.zip`), stderr);
    await assert.rejects(Deno.stat(`${dir}/dist`), Deno.errors.NotFound, "no dist/ is left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the gateway runs from another directory without reading the repository", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using backend = await startFakeBackend({ name: "elsewhere" });
    const config = `${dir}/config.yaml`;
    await Deno.writeTextFile(config, oneService("chat", [backend.url]));
    // Imports are loaded whatever the permissions say; any other read of the repository fails.
    const permissions = [
      "--cached-only",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      "--allow-env",
      "--allow-net=127.0.0.1",
    ];
    const checks: [string, RegExp][] = [
      ["/health", /"status":"ok"/],
      ["/status", /<html/i],
      ["/status.json", /"services"/],
      ["/openapi.json", /"openapi"/],
      ["/docs", /swagger-ui/],
      ["/docs/swagger-ui.css", /\.swagger-ui/],
      ["/docs/swagger-ui-bundle.js", /SwaggerUIBundle/],
    ];

    {
      // The embedded default config.
      await using gateway = await spawnGateway([], {}, { cwd: dir, permissions });
      for (const [path, body] of checks) {
        const response = await fetch(`${gateway.url}${path}`);
        const text = await response.text();
        assert.equal(response.status, 200, `${path}: ${text.slice(0, 200)}`);
        assert.match(text, body, path);
      }
    }

    // A config file from the working directory, and a request through to a backend.
    await using gateway = await spawnGateway(["--config", "config.yaml"], {}, {
      cwd: dir,
      permissions,
    });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).backend, "elsewhere");
    await gateway.close();
    const result = await gateway.exited();
    assert.doesNotMatch(result.stdout + result.stderr, /NotCapable|Requires read access/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
