/**
 * The bodies of a request, kept for its log line when `log.bodies` is on: the first bytes of
 * the client's request and of the answer, at most `limit` of each, masked by the configured
 * patterns when the line is written.
 * @module
 */

/** What `log.bodies` asks for. */
export interface BodyLogging {
  /** The most bytes of a body kept. */
  readonly limit: number;
  /** Patterns whose matches are written as {@linkcode MASKED}. */
  readonly masks: readonly RegExp[];
}

/** What a masked match reads as. */
export const MASKED = "[masked]";

/**
 * Patterns masked unless `log.mask` says otherwise: email addresses, bearer tokens, keys that
 * look like API keys (`sk-…`, `key-…`), and card numbers.
 */
export const DEFAULT_MASKS: readonly string[] = [
  String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,
  String.raw`(?i:bearer)\s+[A-Za-z0-9._~+/=-]+`,
  String.raw`\b(?:sk|pk|rk|key)-[A-Za-z0-9_-]{8,}`,
  String.raw`\b[3-6]\d{3}(?:[ -]?\d{3,4}){3}\b`,
];

const decoder = new TextDecoder();

/** The first bytes of one body, as they went by. */
export class BodyCapture {
  readonly #limit: number;
  readonly #masks: readonly RegExp[];
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  #total = 0;

  constructor(settings: BodyLogging) {
    this.#limit = settings.limit;
    this.#masks = settings.masks;
  }

  /** Keeps what of `bytes` fits under the limit. */
  add(bytes: Uint8Array): void {
    this.#total += bytes.byteLength;
    const room = this.#limit - this.#kept;
    if (room <= 0) return;
    const kept = bytes.byteLength <= room ? bytes.slice() : bytes.slice(0, room);
    this.#chunks.push(kept);
    this.#kept += kept.byteLength;
  }

  /** The kept text, masked, with a note of what was left out. */
  text(): string {
    const joined = new Uint8Array(this.#kept);
    let at = 0;
    for (const chunk of this.#chunks) {
      joined.set(chunk, at);
      at += chunk.byteLength;
    }
    let text = mask(decoder.decode(joined), this.#masks);
    if (this.#total > this.#kept) text += ` […${this.#total - this.#kept} more bytes]`;
    return text;
  }
}

/** `text` with every match of `masks` replaced. */
export function mask(text: string, masks: readonly RegExp[]): string {
  let masked = text;
  for (const pattern of masks) masked = masked.replace(pattern, MASKED);
  return masked;
}
