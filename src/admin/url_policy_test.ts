import assert from "node:assert/strict";
import { instanceUrlProblem, type UrlPolicy } from "./url_policy.ts";

const DEFAULT: UrlPolicy = {};
const ALLOW_PRIVATE: UrlPolicy = { allowPrivate: true };
const NO_PRIVATE: UrlPolicy = { allowPrivate: false };
const EVERY_POLICY = [DEFAULT, ALLOW_PRIVATE, NO_PRIVATE];

/** A URL and what its problem must match, under every policy. */
type Refused = readonly [url: string, problem: RegExp];

const METADATA_IP = /, a link-local address used by cloud metadata services; instances cannot/;

/** Not URLs, not http or https, or with credentials in them. */
const MALFORMED: readonly Refused[] = [
  ["", /^"" is not a URL$/],
  ["not a url", /^"not a url" is not a URL$/],
  ["http://", /^"http:\/\/" is not a URL$/],
  ["http://256.1.1.1/", /is not a URL/],
  ["http://[fe80::1%25eth0]/", /is not a URL/],
  ["ftp://files.example.com/", /^Only http and https URLs can be instances, not "ftp:"$/],
  ["file:///etc/passwd", /^Only http and https URLs can be instances, not "file:"$/],
  ["ws://gpu-1.lan:8000/", /not "ws:"$/],
  ["gopher://127.0.0.1:6379/_INFO", /not "gopher:"$/],
  ["localhost:8000", /not "localhost:"$/],
  [
    "http://user:secret@gpu-1.lan:8000/",
    /^"http:\/\/gpu-1\.lan:8000\/" has a user name or password/,
  ],
  ["http://user@gpu-1.lan:8000/", /has a user name or password in it \(left out here\)/],
  ["https://:secret@api.example.com/", /belong in the instance's headers or api-key, not in its/],
];

/** Cloud metadata services, link-local, unspecified, multicast and broadcast. */
const ALWAYS_REFUSED: readonly Refused[] = [
  ["http://169.254.169.254/", /^"http:\/\/169\.254\.169\.254\/" points at 169\.254\.169\.254, a/],
  ["http://169.254.169.254/latest/meta-data/", METADATA_IP],
  ["http://169.254.0.1:8080/", METADATA_IP],
  ["http://169.254.255.255/", METADATA_IP],
  // Numeric forms that the URL parser rewrites to dotted IPv4.
  ["http://2852039166/", /points at 169\.254\.169\.254, a link-local/],
  ["http://0xa9.0xfe.0xa9.0xfe/", /points at 169\.254\.169\.254, a link-local/],
  ["http://0251.0376.0251.0376/", /points at 169\.254\.169\.254, a link-local/],
  ["http://169.254.43518/", /points at 169\.254\.169\.254, a link-local/],
  ["http://0xA9FEA9FE/", /points at 169\.254\.169\.254, a link-local/],
  // IPv4-mapped IPv6, which the URL parser writes as hex.
  ["http://[::ffff:169.254.169.254]/", /points at 169\.254\.169\.254, a link-local/],
  ["http://[::ffff:a9fe:a9fe]/", /points at 169\.254\.169\.254, a link-local/],
  ["http://[0:0:0:0:0:ffff:a9fe:a9fe]:80/", /points at 169\.254\.169\.254, a link-local/],
  ["http://[::ffff:100.100.100.200]/", /points at 100\.100\.100\.200, the address of the Ali/],
  ["http://[::ffff:0.0.0.0]/", /points at 0\.0\.0\.0, a "this network" address/],
  ["http://[::ffff:224.0.0.1]/", /points at 224\.0\.0\.1, a multicast address/],
  ["http://[fe80::1]/", /points at fe80::1, an IPv6 link-local address;/],
  ["http://[febf:ffff::1]:8000/", /points at febf:ffff::1, an IPv6 link-local/],
  ["http://[fd00:ec2::254]/latest/meta-data/", /the IPv6 address of the AWS instance metadata/],
  ["http://[FD00:EC2:0::254]/", /points at fd00:ec2::254, the IPv6 address of the AWS/],
  ["http://100.100.100.200/latest/meta-data/", /the address of the Alibaba Cloud metadata/],
  ["http://192.0.0.192/latest/", /the address of an Oracle Cloud metadata service/],
  ["http://0.0.0.0:8000/", /points at 0\.0\.0\.0, a "this network" address, which reaches/],
  ["http://0/", /points at 0\.0\.0\.0, a "this network" address/],
  ["http://0.255.1.2/", /points at 0\.255\.1\.2, a "this network" address/],
  ["http://[::]:8000/", /points at ::, the unspecified address, which reaches/],
  ["http://[0:0:0:0:0:0:0:0]/", /points at ::, the unspecified address/],
  ["http://224.0.0.1/", /points at 224\.0\.0\.1, a multicast address; instances cannot/],
  ["http://239.255.255.250:1900/", /points at 239\.255\.255\.250, a multicast address/],
  ["http://[ff02::1]/", /points at ff02::1, an IPv6 multicast address/],
  ["http://[ff0e::fb]/", /points at ff0e::fb, an IPv6 multicast address/],
  ["http://255.255.255.255/", /points at 255\.255\.255\.255, the broadcast address;/],
  // Metadata host names, in any case and with a trailing dot.
  ["http://metadata.google.internal/computeMetadata/v1/", /names metadata\.google\.internal, the/],
  ["https://METADATA.GOOGLE.INTERNAL./", /names metadata\.google\.internal, the host name/],
  ["http://Metadata.Google.Internal..:80/", /names metadata\.google\.internal, the host name/],
  ["http://metadata.goog/", /names metadata\.goog, the host name of a cloud metadata service/],
  ["http://metadata/computeMetadata/v1/", /names metadata, the host name of a cloud metadata/],
  ["http://metadata./", /names metadata, the host name/],
  ["http://%6Detadata/", /names metadata, the host name/],
  ["http://instance-data/latest/meta-data/", /names instance-data, the host name/],
  ["http://instance-data.ec2.internal/", /names instance-data\.ec2\.internal, the host name/],
  ["http://INSTANCE-DATA.ec2.internal./", /names instance-data\.ec2\.internal, the host name/],
];

/** Loopback and private: allowed by default, refused when `allowPrivate` is false. */
const PRIVATE: readonly Refused[] = [
  [
    "http://127.0.0.1:8000",
    /points at 127\.0\.0\.1, which is a loopback address \(127\.0\.0\.0\/8\)/,
  ],
  ["http://127.255.255.254/", /a loopback address \(127\.0\.0\.0\/8\)/],
  ["http://127.1/", /points at 127\.0\.0\.1, which is a loopback address/],
  ["http://2130706433/", /points at 127\.0\.0\.1, which is a loopback address/],
  ["http://0x7f000001:8000/", /points at 127\.0\.0\.1, which is a loopback address/],
  ["http://[::ffff:127.0.0.1]:8000/", /points at 127\.0\.0\.1, which is a loopback address/],
  ["http://[::1]:8000", /points at ::1, which is the IPv6 loopback address \(::1\)/],
  ["http://[0:0:0:0:0:0:0:1]/", /points at ::1, which is the IPv6 loopback address/],
  ["http://localhost:8000", /names localhost, a loopback host name, refused because/],
  ["http://LOCALHOST./", /names localhost, a loopback host name/],
  ["http://gpu.localhost:8000/", /names gpu\.localhost, a loopback host name/],
  ["http://10.0.0.5:8000", /points at 10\.0\.0\.5, which is a private address \(10\.0\.0\.0\/8\)/],
  ["http://10.255.255.255/", /a private address \(10\.0\.0\.0\/8\)/],
  ["http://[::ffff:10.0.0.5]/", /points at 10\.0\.0\.5, which is a private address \(10\./],
  [
    "http://172.16.0.1/",
    /points at 172\.16\.0\.1, which is a private address \(172\.16\.0\.0\/12\)/,
  ],
  ["http://172.31.255.255/", /a private address \(172\.16\.0\.0\/12\)/],
  ["http://192.168.1.10:11434/v1", /which is a private address \(192\.168\.0\.0\/16\)/],
  ["http://100.64.0.1/", /is a shared \(carrier-grade NAT\) address \(100\.64\.0\.0\/10\)/],
  ["http://100.127.255.255/", /a shared \(carrier-grade NAT\) address \(100\.64\.0\.0\/10\)/],
  ["http://[fd12:3456::1]:8000/", /points at fd12:3456::1, which is an IPv6 unique local address/],
  ["http://[fc00::1]/", /an IPv6 unique local address \(fc00::\/7\)/],
  ["http://[fdff:ffff::1]/", /an IPv6 unique local address \(fc00::\/7\)/],
  // Next to metadata addresses that lie inside private ranges.
  ["http://100.100.100.201/", /a shared \(carrier-grade NAT\) address \(100\.64\.0\.0\/10\)/],
  ["http://[fd00:ec2::253]/", /an IPv6 unique local address \(fc00::\/7\)/],
];

/** Allowed under every policy: public addresses, names, and the edges of refused ranges. */
const PUBLIC: readonly string[] = [
  "https://api.example.com",
  "HTTPS://API.EXAMPLE.COM/v1",
  "http://gpu-1.lan:11434",
  "http://gpu-1.lan:11434/v1/",
  "https://api.openai.com/v1",
  "http://8.8.8.8/",
  "http://[2001:db8::1]:8000/",
  "http://[::ffff:8.8.8.8]/",
  // Names are not resolved, so only the listed names are refused.
  "http://metadata.example.com/",
  "http://my-metadata/",
  "http://metadata.google.internal.example.com/",
  "http://instance-data.example.com/",
  "http://localhost.example.com/",
  "http://notlocalhost/",
  // Just outside refused ranges.
  "http://1.0.0.0/",
  "http://169.253.255.255/",
  "http://169.255.0.0/",
  "http://100.63.255.255/",
  "http://100.128.0.0/",
  "http://192.0.0.193/",
  "http://172.15.255.255/",
  "http://172.32.0.0/",
  "http://11.0.0.1/",
  "http://192.169.0.1/",
  "http://128.0.0.1/",
  "http://223.255.255.255/",
  "http://240.0.0.1/",
  "http://255.255.255.254/",
  "http://[fe7f::1]/",
  "http://[fec0::1]/",
  "http://[fe00::1]/",
  "http://[::2]/",
];

for (const [url, problem] of [...MALFORMED, ...ALWAYS_REFUSED]) {
  Deno.test(`refused under every policy: ${url}`, () => {
    for (const policy of EVERY_POLICY) {
      const found = instanceUrlProblem(url, policy);
      assert.ok(found !== undefined, `${url} is allowed with ${JSON.stringify(policy)}`);
      assert.match(found, problem);
    }
    assert.equal(instanceUrlProblem(url), instanceUrlProblem(url, NO_PRIVATE));
  });
}

for (const [url, problem] of PRIVATE) {
  Deno.test(`allowed by default, refused when allowPrivate is false: ${url}`, () => {
    assert.equal(instanceUrlProblem(url), undefined);
    assert.equal(instanceUrlProblem(url, DEFAULT), undefined);
    assert.equal(instanceUrlProblem(url, ALLOW_PRIVATE), undefined);
    const found = instanceUrlProblem(url, NO_PRIVATE);
    assert.ok(found !== undefined, `${url} is allowed with allowPrivate false`);
    assert.match(found, problem);
    assert.match(found, /, refused because admin\.allow-private is false$/);
  });
}

for (const url of PUBLIC) {
  Deno.test(`allowed under every policy: ${url}`, () => {
    assert.equal(instanceUrlProblem(url), undefined);
    for (const policy of EVERY_POLICY) assert.equal(instanceUrlProblem(url, policy), undefined);
  });
}

Deno.test("messages say what the URL points at and why it is refused", () => {
  assert.equal(
    instanceUrlProblem("http://169.254.169.254/"),
    `"http://169.254.169.254/" points at 169.254.169.254, a link-local address used by cloud ` +
      `metadata services; instances cannot point there`,
  );
  assert.equal(
    instanceUrlProblem("http://2852039166/latest"),
    `"http://2852039166/latest" points at 169.254.169.254, a link-local address used by cloud ` +
      `metadata services; instances cannot point there`,
  );
  assert.equal(
    instanceUrlProblem("http://10.0.0.5:8000", NO_PRIVATE),
    `"http://10.0.0.5:8000" points at 10.0.0.5, which is a private address (10.0.0.0/8), ` +
      `refused because admin.allow-private is false`,
  );
  assert.equal(
    instanceUrlProblem("http://Metadata.Google.Internal./"),
    `"http://Metadata.Google.Internal./" names metadata.google.internal, the host name of a ` +
      `cloud metadata service; instances cannot point there`,
  );
  assert.equal(
    instanceUrlProblem("http://localhost:8000", NO_PRIVATE),
    `"http://localhost:8000" names localhost, a loopback host name, refused because ` +
      `admin.allow-private is false`,
  );
  assert.equal(
    instanceUrlProblem("ftp://files.example.com/"),
    `Only http and https URLs can be instances, not "ftp:"`,
  );
});

Deno.test("a credentials problem leaves the user name and password out of the message", () => {
  const problem = instanceUrlProblem("http://alice:hunter2@gpu-1.lan:8000/v1");
  assert.equal(
    problem,
    `"http://gpu-1.lan:8000/v1" has a user name or password in it (left out here); ` +
      `credentials belong in the instance's headers or api-key, not in its URL`,
  );
});

Deno.test("metadata and link-local ranges win over the private ranges that hold them", () => {
  // 100.100.100.200 is in 100.64.0.0/10 and fd00:ec2::254 in fc00::/7.
  assert.match(instanceUrlProblem("http://100.100.100.200/", NO_PRIVATE)!, /Alibaba/);
  assert.match(instanceUrlProblem("http://[fd00:ec2::254]/", NO_PRIVATE)!, /AWS/);
});
