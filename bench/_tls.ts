/**
 * A throwaway self-signed certificate for 127.0.0.1, made with `openssl` for one bench run, so
 * the fake backend can serve https and the transports can trust it.
 * @module
 */

/** Where the certificate and its key were written, both PEM. */
export interface SelfSigned {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Whether `openssl` can be run. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"] }).output()).success;
  } catch {
    return false;
  }
}

/**
 * Writes a P-256 certificate for 127.0.0.1, valid for a day, into `dir`. It is marked as no CA
 * (`CA:FALSE`): rustls, behind Deno's `fetch` and TLS, refuses a CA certificate as a server's
 * own.
 */
export async function selfSignedCert(dir: string): Promise<SelfSigned> {
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  const { success, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-days",
      "1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`Cannot make a certificate with openssl:\n${new TextDecoder().decode(stderr)}`);
  }
  return { certFile, keyFile };
}
