import assert from "node:assert/strict";
import { proxySettings, throughProxy } from "./proxy_settings.ts";
import { transportTarget } from "./target.ts";

const env = (variables: Record<string, string>) => (name: string) => variables[name];
const target = (url: string) => transportTarget(url).http1;

Deno.test("no proxy variable: no proxy settings", () => {
  assert.equal(proxySettings(env({ NO_PROXY: "localhost" })), undefined);
});

Deno.test("plain targets name the whole URL to the proxy; TLS ones tunnel", () => {
  const settings = proxySettings(env({ ALL_PROXY: "http://user:p%40ss@proxy.lan:3128" }))!;
  const plain = throughProxy(target("http://gpu-1:8000/v1/chat/completions"), settings);
  assert.deepEqual(plain.proxy, {
    hostname: "proxy.lan",
    port: 3128,
    authorization: `Basic ${btoa("user:p@ss")}`,
  });
  assert.equal(plain.path, "http://gpu-1:8000/v1/chat/completions");
  assert.equal(plain.key, "http://gpu-1:8000 via proxy.lan:3128");
  const tls = throughProxy(target("https://api.example.com/v1/chat/completions"), settings);
  assert.equal(tls.path, "/v1/chat/completions");
  assert.equal(tls.proxy?.hostname, "proxy.lan");
});

Deno.test("the scheme's own variable wins over ALL_PROXY, and lower case over upper", () => {
  const settings = proxySettings(env({
    ALL_PROXY: "http://all:1",
    HTTPS_PROXY: "http://upper:2",
    https_proxy: "http://lower:3",
  }))!;
  assert.equal(throughProxy(target("https://a.example/"), settings).proxy?.hostname, "lower");
  assert.equal(throughProxy(target("http://a.example/"), settings).proxy?.hostname, "all");
  assert.equal(proxySettings(env({ HTTP_PROXY: "proxy.lan:8080" }))!.http?.port, 8080);
});

Deno.test("NO_PROXY: names, domains with their subdomains, ports, addresses and *", () => {
  const settings = proxySettings(env({
    HTTP_PROXY: "http://proxy:1",
    NO_PROXY: "localhost, .internal.lan example.com:8000 10.0.0.7 ::1 [fe80::1]:81",
  }))!;
  const direct = (url: string) => throughProxy(target(url), settings).proxy === undefined;
  assert.ok(direct("http://localhost:11434/"));
  assert.ok(direct("http://gpu.internal.lan/"));
  assert.ok(direct("http://internal.lan/"));
  assert.ok(direct("http://example.com:8000/"));
  assert.ok(!direct("http://example.com:8001/"));
  assert.ok(direct("http://api.example.com:8000/"));
  assert.ok(!direct("http://notexample.com:8000/"));
  assert.ok(direct("http://10.0.0.7:8000/"));
  assert.ok(direct("http://[::1]:8000/"));
  assert.ok(direct("http://[fe80::1]:81/"));
  assert.ok(!direct("http://[fe80::1]:82/"));
  assert.ok(!direct("http://gpu-2:8000/"));
  const all = proxySettings(env({ HTTP_PROXY: "http://proxy:1", no_proxy: "*" }))!;
  assert.equal(throughProxy(target("http://gpu-2:8000/"), all).proxy, undefined);
});

Deno.test("a proxy that is not http:// is refused, naming its variable", () => {
  assert.throws(
    () => proxySettings(env({ https_proxy: "https://proxy.lan" })),
    /Cannot use the proxy "https:\/\/proxy\.lan" from https_proxy: only http:\/\/ proxies/,
  );
});
