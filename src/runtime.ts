/**
 * The few runtime services the core needs that Web APIs lack. Everything Deno-specific outside
 * `main.ts` and the KV store lives here.
 * @module
 */

/** Opens and closes a TCP connection; true when it opened within `timeout` ms. */
export async function tcpReachable(
  target: { readonly hostname: string; readonly port: number },
  timeout: number,
): Promise<boolean> {
  try {
    const connection = await Deno.connect({
      hostname: target.hostname,
      port: target.port,
      signal: AbortSignal.timeout(timeout),
    });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

/** Opens a TCP connection with Nagle's algorithm off: requests and chunks go out at once. */
export async function tcpConnect(
  target: { readonly hostname: string; readonly port: number },
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  const connection = await Deno.connect({
    hostname: target.hostname,
    port: target.port,
    signal,
  });
  connection.setNoDelay(true);
  return connection;
}
