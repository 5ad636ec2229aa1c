/**
 * Reads a client's request body once, within the size limit, and finds the few fields routing
 * needs (`model`, `stream`) without re-encoding it: the bytes read are the bytes forwarded.
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { chunkReader } from "../../lib/chunk_reader.ts";
import type { BodyKind } from "../../services.ts";
import type { BodyIdleWatch, WatchedBody } from "./body_idle_watch.ts";

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
    : { ...await multipartFields(bytes, contentType), json: undefined };
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
 * The largest declared body read in one piece. A client sends a body this small at once, so
 * under watch it must arrive whole within the idle time; a larger one is read chunk by chunk, and
 * only a pause between chunks counts.
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

/**
 * Reads the whole body, refusing it with 413 as soon as it passes `maxBytes`, and with 408 when
 * it stops arriving.
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
    if (declared !== undefined && (watched === undefined || declared <= WHOLE_BODY)) {
      // The runtime enforces a declared length, so the fast native read is safe here. It stays
      // fast only while `request.body` is untouched: that getter wraps the body in a JS stream.
      const whole = request.arrayBuffer();
      return new Uint8Array(await (watched ? Promise.race([whole, watched.idle]) : whole));
    }
    if (request.body === null) return new Uint8Array(0);
    return await readChunks(request.body, maxBytes, tooLarge, watched);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError(499, "client_closed_request", "The client stopped sending its body", {
      cause: error,
    });
  }
}

/** Reads a body chunk by chunk to its end; under `watched`, each chunk restarts the idle time. */
async function readChunks(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => GatewayError,
  watched?: WatchedBody,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = chunkReader(body);
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await (watched ? Promise.race([reader.read(), watched.idle]) : reader.read());
    } catch (error) {
      void reader.cancel().catch(() => {});
      throw error;
    }
    if (next.done) break;
    const { value } = next;
    watched?.progressed();
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value as Uint8Array<ArrayBuffer>);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function jsonFields(
  bytes: Uint8Array,
): { model: string; stream: boolean; json: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
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

async function multipartFields(
  bytes: Uint8Array<ArrayBuffer>,
  contentType: string,
): Promise<{ model: string; stream: boolean }> {
  const invalid = (reason: string) =>
    new GatewayError(
      400,
      "invalid_multipart",
      `Request body is not a valid multipart upload: ${reason}`,
    );
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) throw invalid("the content type names no boundary");
  // The runtime's parser takes a body cut off before its closing boundary as it is.
  if (lastIndexOf(bytes, encoder.encode(`\r\n--${boundary}--`)) === -1) {
    throw invalid("it does not end with its closing boundary");
  }
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw invalid("its parts cannot be read");
  }
  const model = form.get("model");
  return {
    model: requireModel(typeof model === "string" ? model : undefined),
    stream: form.get("stream") === "true",
  };
}

/** The `boundary` parameter of a multipart content type, quoted or not. */
function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;"]+))/i.exec(contentType);
  return match === null ? undefined : match[1] ?? match[2];
}

/**
 * Where `needle` last occurs in `bytes`, or -1. Searched from the end, where a multipart
 * body's closing boundary is.
 */
function lastIndexOf(bytes: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  outer: for (let at = bytes.byteLength - needle.byteLength; at >= 0; at--) {
    if (bytes[at] !== first) continue;
    for (let i = 1; i < needle.byteLength; i++) {
      if (bytes[at + i] !== needle[i]) continue outer;
    }
    return at;
  }
  return -1;
}

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
 * upload rebuilt with the new `model` field and every other part as it was.
 */
export async function replaceModel(body: ClientBody, model: string): Promise<ClientBody> {
  if (body.json !== undefined) {
    const json = { ...body.json, model };
    return { ...body, model, json, bytes: encoder.encode(JSON.stringify(json)) };
  }
  const form = await new Response(body.bytes, { headers: { "content-type": body.contentType } })
    .formData();
  form.set("model", model);
  const rebuilt = new Response(form);
  return {
    ...body,
    model,
    bytes: new Uint8Array(await rebuilt.arrayBuffer()),
    contentType: rebuilt.headers.get("content-type")!,
  };
}

const encoder = new TextEncoder();
