import assert from "node:assert/strict";
import { proxyStatusError } from "./proxy_status.ts";

Deno.test("the nearest proxy's error type is read", () => {
  assert.equal(proxyStatusError("squid; error=connection_refused"), "connection_refused");
  assert.equal(
    proxyStatusError('edge; error=dns_timeout, gw; error="x", inner; error=connection_timeout'),
    "connection_timeout",
  );
  assert.equal(
    proxyStatusError('envoy; error=http_response_timeout; details="slow"'),
    "http_response_timeout",
  );
});

Deno.test("separators inside quoted details do not split members", () => {
  assert.equal(
    proxyStatusError('gw; error=destination_unavailable; details="down, \\"really\\"; sorry"'),
    "destination_unavailable",
  );
});

Deno.test("a Proxy-Status without an error names none", () => {
  assert.equal(proxyStatusError(null), undefined);
  assert.equal(proxyStatusError('gw; details="a, b; error=x"'), undefined);
  assert.equal(proxyStatusError(""), undefined);
  assert.equal(proxyStatusError("cdn; fwd=miss"), undefined);
  assert.equal(proxyStatusError("edge; error=dns_error, gw; received-status=200"), undefined);
});
