/**
 * Reads a client's request body once, within the size limit, and finds the few fields routing
 * needs (`model`, `stream`) without re-encoding it: the bytes read are the bytes forwarded.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import type { BodyKind } from "../../services.ts";
import type { BodyIdleWatch, WatchedBody } from "./body_idle_watch.ts";
import { boundaryOf, MultipartError, multipartValues } from "./multipart_fields.ts";

/** A request body held for forwarding, and what routing needs from it. */
export interface ClientBody {
  /** The body exactly as the client sent it. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The content type to forward (with its multipart boundary). */
  readonly contentType: string;
  /** The requested model. */
  readonly model: string;
  /** Whether the client asked for a stream. */
  readonly stream: boolean;
  /** A JSON body as parsed, for a translation that needs every field; undefined for uploads. */
  readonly json: Readonly<Record<string, unknown>> | undefined;
}

/** Options for {@linkcode readClientBody}. */
export interface ReadBodyOptions {
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Cuts a body that stops arriving. @default none: the read waits as long as it takes */
  readonly idle?: BodyIdleWatch | undefined;
}

/** Reads and inspects a request body of the given kind; throws {@linkcode GatewayError}. */
export async function readClientBody(
  request: Request,
  kind: BodyKind,
  options: ReadBodyOptions,
): Promise<ClientBody> {
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";", 1)[0]!.trim().toLowerCase();
  if (kind === "json" && !isJson(mediaType)) {
    throw new GatewayError(
      415,
      "unsupported_media_type",
      `Expected a JSON body with Content-Type: application/json, got "${contentType}"`,
    );
  }
  if (kind === "multipart" && mediaType !== "multipart/form-data") {
    throw new GatewayError(
      415,
      "unsupported_media_type",
      `Expected a multipart/form-data upload, got "${contentType}"`,
    );
  }
  const bytes = await readLimited(request, options);
  const fields = kind === "json"
    ? jsonFields(bytes)
    : { ...multipartFields(bytes, contentType), json: undefined };
  return { bytes, contentType: contentType || "application/json", ...fields };
}

function isJson(mediaType: string): boolean {
  return mediaType === "" || mediaType === "application/json" || mediaType.endsWith("+json");
}

/** A byte count as written in the config: `2MiB (2097152 bytes)`, or `100 bytes`. */
function describeSize(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit} (${bytes} bytes)`;
  }
  return `${bytes} bytes`;
}

/**
 * The largest declared body read in one piece by the runtime. A client sends a body this small
 * at once, so under watch it must arrive whole within the idle time; a larger one is read as it
 * arrives into one buffer of its declared size, and only a pause between reads counts.
 */
const WHOLE_BODY = 64 * 1024;

/** The refusal of a body that stopped arriving. */
export function bodyIdleError(idleMs: number): GatewayError {
  return new GatewayError(
    408,
    "request_timeout",
    `The request body did not arrive within server.timeouts.body-idle (${idleMs} ms)`,
    // The rest of the body may still be on its way: the connection cannot serve another request.
    { headers: { connection: "close" } },
  );
}

/** A body that ended before its declared length arrived, or ran past it. */
class BodyCut extends Error {
  constructor() {
    super("The body ended before its declared length");
    this.name = "BodyCut";
  }
}

/**
 * Reads the whole body, refusing it with 413 as soon as it passes `maxBytes`, and with 408 when
 * it stops arriving. A body of declared length is held in one buffer of exactly that size.
 */
export async function readLimited(
  request: Request,
  options: ReadBodyOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const { maxBytes, idle } = options;
  const tooLarge = () =>
    new GatewayError(
      413,
      "request_too_large",
      `Request body is larger than the limit server.max-body-size of ${describeSize(maxBytes)}`,
    );
  const header = request.headers.get("content-length");
  const declared = header === null ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) throw tooLarge();
  try {
    using watched = idle?.watch();
    if (declared !== undefined && declared <= WHOLE_BODY) {
      // The runtime enforces a declared length, so the fast native read is safe here. It stays
      // fast only while `request.body` is untouched: that getter wraps the body in a JS stream.
      const whole = request.arrayBuffer();
      return new Uint8Array(await (watched ? Promise.race([whole, watched.idle]) : whole));
    }
    if (request.body === null) return new Uint8Array(0);
    if (declared !== undefined) return await readDeclared(request.body, declared, watched);
    return await readChunks(request.body, maxBytes, tooLarge, watched);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError(499, "client_closed_request", "The client stopped sending its body", {
      cause: error,
    });
  }
}

/** The most read from a body at once into the reader's own buffer. */
const READ_SIZE = 64 * 1024;

/** Reads a body's chunks, each valid until the next read. */
interface ChunkSource {
  /** The next chunk, or undefined at the end of the body. */
  read(): Promise<Uint8Array | undefined>;
  cancel(): Promise<void>;
}

/**
 * The chunks of `body`: a byte stream (what `Deno.serve` gives) is read into one small buffer
 * that every read reuses, so reading allocates nothing per chunk; any other stream is read as
 * it is.
 */
function chunkSource(body: ReadableStream<Uint8Array>): ChunkSource {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    const reader = body.getReader();
    return {
      read: async () => (await reader.read()).value,
      cancel: () => reader.cancel(),
    };
  }
  const reader = byob;
  let buffer = new ArrayBuffer(READ_SIZE);
  return {
    async read() {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (value === undefined) throw new BodyCut();
      // The read hands the buffer back as a new object; it is ours again.
      buffer = value.buffer as ArrayBuffer;
      return done ? undefined : value;
    },
    cancel: () => reader.cancel(),
  };
}

/**
 * `length` zeroed bytes in memory mapped for them alone. The buffer is resizable in name only:
 * V8 maps the memory of such a buffer from the system, where a plain one of this size comes from
 * the allocator, whose free lists keep it once the buffer is collected. Mapped, it goes back to
 * the system as soon as the buffer is collected.
 */
function mappedBytes(length: number): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(new ArrayBuffer(length, { maxByteLength: length }));
  } catch {
    // No address space left to map: the allocator's memory serves as well.
    return new Uint8Array(length);
  }
}

/**
 * Reads a body of `length` declared bytes into one buffer of exactly that size as it arrives:
 * no chunk is kept and nothing is joined. Under `watched`, each chunk restarts the idle time.
 */
async function readDeclared(
  body: ReadableStream<Uint8Array>,
  length: number,
  watched: WatchedBody | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = mappedBytes(length);
  const source = chunkSource(body);
  let filled = 0;
  try {
    for (;;) {
      const chunk = await (watched ? Promise.race([source.read(), watched.idle]) : source.read());
      if (chunk === undefined) break;
      watched?.progressed();
      // The runtime holds a client to its declared length; a body that breaks it is cut.
      if (chunk.byteLength > length - filled) throw new BodyCut();
      bytes.set(chunk, filled);
      filled += chunk.byteLength;
    }
    if (filled < length) throw new BodyCut();
  } catch (error) {
    void source.cancel().catch(() => {});
    throw error;
  }
  return bytes;
}

/**
 * Reads a body of unknown length chunk by chunk to its end; under `watched`, each chunk restarts
 * the idle time. The chunks go into one small buffer, and once they outgrow it, into memory
 * mapped for the body with room up to `maxBytes` that grows in place: one copy however large the
 * body, and none joined at the end.
 */
async function readChunks(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => GatewayError,
  watched?: WatchedBody,
): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = new Uint8Array(Math.min(WHOLE_BODY, maxBytes));
  let size = 0;
  const source = chunkSource(body);
  for (;;) {
    let chunk: Uint8Array | undefined;
    try {
      chunk = await (watched ? Promise.race([source.read(), watched.idle]) : source.read());
    } catch (error) {
      void source.cancel().catch(() => {});
      throw error;
    }
    if (chunk === undefined) break;
    watched?.progressed();
    const needed = size + chunk.byteLength;
    if (needed > maxBytes) {
      await source.cancel().catch(() => {});
      throw tooLarge();
    }
    if (needed > bytes.byteLength) bytes = grown(bytes, size, needed, maxBytes);
    bytes.set(chunk, size);
    size = needed;
  }
  return bytes.buffer.resizable ? bytes : bytes.slice(0, size);
}

/**
 * Room for `needed` bytes, the first `size` of `bytes` in it: the same mapped memory grown in
 * place, or, the first time, memory mapped with room up to `maxBytes`. Where no address space is
 * left to map, a buffer twice as large from the allocator.
 */
function grown(
  bytes: Uint8Array<ArrayBuffer>,
  size: number,
  needed: number,
  maxBytes: number,
): Uint8Array<ArrayBuffer> {
  const { buffer } = bytes;
  if (buffer.resizable) {
    buffer.resize(needed);
    return new Uint8Array(buffer, 0, needed);
  }
  let larger: Uint8Array<ArrayBuffer>;
  try {
    larger = new Uint8Array(new ArrayBuffer(needed, { maxByteLength: maxBytes }), 0, needed);
  } catch {
    larger = new Uint8Array(Math.min(maxBytes, Math.max(needed, 2 * bytes.byteLength)));
  }
  larger.set(bytes.subarray(0, size));
  return larger;
}

const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * `bytes` as UTF-8 text; throws a `TypeError` for bytes that are not UTF-8. The runtime's
 * lenient decoder is several times faster than its strict one, and marks each invalid sequence
 * with U+FFFD: only a text that holds one (rare in a request) is decoded again, strictly.
 */
function utf8Text(bytes: Uint8Array): string {
  const text = decoder.decode(bytes);
  return text.includes("\uFFFD") ? strictDecoder.decode(bytes) : text;
}

function jsonFields(
  bytes: Uint8Array,
): { model: string; stream: boolean; json: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Text(bytes));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : "it is not valid UTF-8";
    throw new GatewayError(400, "invalid_json", `Request body is not valid JSON: ${reason}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError(400, "invalid_json", "Request body must be a JSON object");
  }
  const json = parsed as Record<string, unknown>;
  return { model: requireModel(json.model), stream: json.stream === true, json };
}

/** The model and stream fields of an upload, found without decoding its files. */
function multipartFields(
  bytes: Uint8Array<ArrayBuffer>,
  contentType: string,
): { model: string; stream: boolean } {
  const fields = uploadFields(bytes, contentType);
  return {
    model: requireModel(fields.get("model")?.value),
    stream: fields.get("stream")?.value === "true",
  };
}

/** The `model` and `stream` fields of an upload; throws {@linkcode GatewayError} (400). */
function uploadFields(bytes: Uint8Array, contentType: string) {
  const invalid = (reason: string) =>
    new GatewayError(
      400,
      "invalid_multipart",
      `Request body is not a valid multipart upload: ${reason}`,
    );
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) throw invalid("the content type names no boundary");
  try {
    return multipartValues(bytes, boundary, MULTIPART_FIELDS);
  } catch (error) {
    if (error instanceof MultipartError) throw invalid(error.message);
    throw error;
  }
}

/** The fields of an upload that routing reads. */
const MULTIPART_FIELDS = ["model", "stream"];

function requireModel(model: unknown): string {
  if (typeof model !== "string" || model.length === 0) {
    throw new GatewayError(400, "missing_model", "Request must name a model in the `model` field", {
      param: "model",
    });
  }
  return model;
}

/**
 * The same request for another model: a JSON body re-encoded with the new `model` in place, an
 * upload with the value of its `model` field replaced and every other byte as it was.
 */
export function replaceModel(body: ClientBody, model: string): ClientBody {
  if (body.json !== undefined) {
    const json = { ...body.json, model };
    return { ...body, model, json, bytes: encoder.encode(JSON.stringify(json)) };
  }
  const field = uploadFields(body.bytes, body.contentType).get("model");
  if (field === undefined) {
    throw new RangeError("Cannot replace the model of an upload without one");
  }
  const value = encoder.encode(model);
  const bytes = mappedBytes(body.bytes.byteLength - (field.end - field.start) + value.byteLength);
  bytes.set(body.bytes.subarray(0, field.start));
  bytes.set(value, field.start);
  bytes.set(body.bytes.subarray(field.end), field.start + value.byteLength);
  return { ...body, model, bytes };
}

const encoder = new TextEncoder();
