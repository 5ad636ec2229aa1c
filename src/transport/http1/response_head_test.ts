import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { parseResponseHead } from "./response_head.ts";

Deno.test("status line, reason and headers are read as sent, names in lower case", () => {
  const head = parseResponseHead(
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Empty:\r\nContent-Length:  3 ",
    "POST",
  );
  assert.equal(head.status, 404);
  assert.equal(head.statusText, "Not Found");
  assert.deepEqual(head.headers, [
    ["content-type", "application/json"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["x-empty", ""],
    ["content-length", "3"],
  ]);
  assert.deepEqual(head.framing, { kind: "length", length: 3 });
  assert.equal(head.keepAlive, true);
  assert.equal(parseResponseHead("HTTP/1.1 200", "POST").statusText, "");
});

Deno.test("the body's framing follows RFC 9112 section 6.3", () => {
  const cases: [string, string, unknown, boolean][] = [
    ["HTTP/1.1 204 No Content\r\ncontent-length: 5", "POST", { kind: "none" }, true],
    ["HTTP/1.1 304 Not Modified", "POST", { kind: "none" }, true],
    ["HTTP/1.1 200 OK\r\ncontent-length: 5", "HEAD", { kind: "none" }, true],
    ["HTTP/1.1 200 OK\r\ncontent-length: 0", "POST", { kind: "none" }, true],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked", "POST", { kind: "chunked" }, true],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked", "POST", { kind: "chunked" }, true],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: gzip", "POST", { kind: "close" }, false],
    // Framed both ways: chunked wins, and the connection is not trusted with another request.
    [
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked",
      "POST",
      { kind: "chunked" },
      false,
    ],
    ["HTTP/1.1 200 OK", "POST", { kind: "close" }, false],
    ["HTTP/1.1 200 OK\r\nconnection: keep-alive, Close\r\ncontent-length: 1", "POST", {
      kind: "length",
      length: 1,
    }, false],
    ["HTTP/1.0 200 OK\r\ncontent-length: 1", "POST", { kind: "length", length: 1 }, false],
    ["HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 1", "POST", {
      kind: "length",
      length: 1,
    }, true],
  ];
  for (const [text, method, framing, keepAlive] of cases) {
    const head = parseResponseHead(text, method);
    assert.deepEqual(head.framing, framing, text);
    assert.equal(head.keepAlive, keepAlive, text);
  }
});

Deno.test("heads that break the protocol are refused", () => {
  for (
    const [text, message] of [
      ["HTTP/2 200 OK", /no status line/],
      ["HTTP/1.1 20 OK", /no status line/],
      ["HTTP/1.1 099 Odd", /status 99/],
      ["HTTP/1.1 600 Odd", /status 600/],
      ["HTTP/1.1 200 OK\r\nno colon", /without a name/],
      ["HTTP/1.1 200 OK\r\n: value", /without a name/],
      ["HTTP/1.1 200 OK\r\nbad name: value", /bad header name/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2", /two different/],
      ["HTTP/1.1 200 OK\r\ncontent-length: -1", /bad Content-Length/],
      ["HTTP/1.1 200 OK\r\ncontent-length: 1e3", /bad Content-Length/],
    ] as const
  ) {
    assert.throws(() => parseResponseHead(text, "POST"), message, text);
  }
  // The same length twice is one length.
  const repeated = parseResponseHead(
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2",
    "POST",
  );
  assert.deepEqual(repeated.framing, { kind: "length", length: 2 });
});

Deno.test("lines may end in a bare LF, and a length listed twice is one length", () => {
  const head = parseResponseHead(
    "HTTP/1.1 200 OK\ncontent-type: text/plain\r\ncontent-length: 4, 4",
    "POST",
  );
  assert.equal(head.statusText, "OK");
  assert.deepEqual(head.headers, [["content-type", "text/plain"], ["content-length", "4, 4"]]);
  assert.deepEqual(head.framing, { kind: "length", length: 4 });
});

Deno.test("control characters in a value or the reason phrase are refused", () => {
  for (
    const text of [
      "HTTP/1.1 200 OK\r\nx-odd: a\0b",
      "HTTP/1.1 200 OK\r\nx-odd: a\rb",
      "HTTP/1.1 200 OK\r\nx-odd: a\x7fb",
      "HTTP/1.1 200 O\0K",
      "HTTP/1.1 200 OK\r\ncontent-length: 4, 5",
    ]
  ) {
    assert.throws(() => parseResponseHead(text, "POST"), ProtocolError, JSON.stringify(text));
  }
  // A tab is white space, not a control character to refuse.
  assert.deepEqual(parseResponseHead("HTTP/1.1 200 OK\r\nx-tab: a\tb", "POST").headers, [
    ["x-tab", "a\tb"],
  ]);
});

Deno.test("a Keep-Alive header's timeout is read in ms", () => {
  const read = (value: string) =>
    parseResponseHead(`HTTP/1.1 200 OK\r\nkeep-alive: ${value}\r\ncontent-length: 0`, "POST")
      .keepAliveTimeout;
  assert.equal(read("timeout=5"), 5000);
  assert.equal(read("timeout=5, max=1000"), 5000);
  assert.equal(read("max=10, Timeout = 75"), 75_000);
  assert.equal(read("max=10"), undefined);
  assert.equal(parseResponseHead("HTTP/1.1 200 OK", "POST").keepAliveTimeout, undefined);
});

Deno.test("a refused control character is named where it is", () => {
  assert.throws(
    () => parseResponseHead("HTTP/1.1 200 OK\r\nx-a: 1\r\nX-Odd: a\0b\r\nx-b: 2", "POST"),
    /a control character in the x-odd header/,
  );
  assert.throws(
    () => parseResponseHead("HTTP/1.1 200 O\x01K\r\nx-a: 1", "POST"),
    /a control character in the reason phrase/,
  );
});
