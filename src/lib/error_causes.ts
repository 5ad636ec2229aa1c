/**
 * Names the socket error behind a failed `fetch`, which wraps it in a chain of causes.
 * @module
 */

/** Every message in an error's cause chain, joined. */
export function causeChain(reason: unknown): string {
  const messages: string[] = [];
  for (let current = reason; current !== undefined; current = (current as Error).cause) {
    messages.push(current instanceof Error ? current.message : String(current));
    if (!(current instanceof Error) || messages.length > 5) break;
  }
  return messages.join(": ");
}

/** Socket failures worth naming, without the backend's address. */
const KNOWN_CAUSES =
  /connection refused|connection reset|connection closed|broken pipe|dns error|timed out|unexpected eof|no route to host|network is unreachable|invalid peer certificate|proxy refused the tunnel with \d{3}(?: \(\w+\))?|proxy answered \d{3} in the backend's place(?: \(\w+\))?/i;

/** The known socket failure in a cause chain, lower-cased, e.g. `connection refused`. */
export function knownCause(detail: string): string | undefined {
  return KNOWN_CAUSES.exec(detail)?.[0]?.toLowerCase();
}
