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
