/**
 * The upload scenario: how many copies of the uploads in flight a proxy holds in memory. Large
 * multipart transcription uploads go through a target a few at a time while its resident set is
 * read several times a second; the peak over idle, divided by the bytes in flight, is the number
 * of copies it held, and a reading some seconds after the last upload shows whether it gave the
 * memory back.
 * @module
 */
import { processTree, residentBytes } from "./_proc.ts";
import { table } from "./_report.ts";
import { sampleRss, type StreamTarget } from "./_streams.ts";

/** Where the uploads go on every target. */
export const UPLOAD_PATH = "/v1/audio/transcriptions";

/** Options for {@linkcode measureUploads}. */
export interface UploadsOptions {
  /** Uploads in all. */
  readonly uploads: number;
  /** Size of the file in each upload, in MiB. */
  readonly sizeMiB: number;
  /** Uploads in flight at once. */
  readonly concurrency: number;
  /** Time after the last upload before the resident set is read again, in s. */
  readonly settleSeconds: number;
  /** Time between two readings of the resident set while the uploads run, in ms. */
  readonly sampleMs: number;
}

/** The uploads through one target. */
export interface UploadsResult {
  readonly target: string;
  /** Resident set before the first upload: the target idle. */
  readonly idleBytes: number;
  /** Highest resident set read while the uploads ran. */
  readonly peakBytes: number;
  /** Resident set `settleSeconds` after the last upload ended. */
  readonly afterBytes: number;
  /** Uploads answered 200 with every byte counted by the backend. */
  readonly completed: number;
  /** Uploads that failed, by why. */
  readonly errors: ReadonlyMap<string, number>;
  readonly seconds: number;
}

/** One upload, framed once and sent again and again. */
export interface UploadBody {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
}

/**
 * A transcription upload of `sizeMiB` MiB of audio: the `model` part first, as OpenAI's SDKs
 * send it, then the file.
 */
export function uploadBody(sizeMiB: number, model = "bench-model"): UploadBody {
  const boundary = "----switchyard-bench-upload";
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="speech.mp3"\r\n` +
      `Content-Type: audio/mpeg\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const fileBytes = sizeMiB * 1024 * 1024;
  const bytes = new Uint8Array(head.byteLength + fileBytes + tail.byteLength);
  bytes.set(head);
  // Not all zeros, so that nothing on the way can keep it cheaply.
  for (let index = 0; index < fileBytes; index++) bytes[head.byteLength + index] = index % 251;
  bytes.set(tail, head.byteLength + fileBytes);
  return { bytes, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Sends one upload; resolves with why it failed, or undefined if the backend got it whole. */
async function upload(url: string, body: UploadBody): Promise<string | undefined> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": body.contentType },
      body: body.bytes,
    });
    const text = await response.text();
    if (response.status !== 200) return `status ${response.status}`;
    const { bytes } = JSON.parse(text) as { bytes?: unknown };
    return bytes === body.bytes.byteLength ? undefined : "bytes lost";
  } catch (error) {
    return error instanceof Error ? error.name : "error";
  }
}

/** Runs `options.uploads` uploads through `target`, `options.concurrency` at a time. */
export async function measureUploads(
  target: StreamTarget,
  body: UploadBody,
  options: UploadsOptions,
): Promise<UploadsResult> {
  const url = new URL(UPLOAD_PATH, target.url).href;
  const pids = await processTree(target.pid);
  const idleBytes = await residentBytes(pids);
  const sampler = sampleRss(pids, options.sampleMs);
  const errors = new Map<string, number>();
  let completed = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < options.uploads) {
      next++;
      const failure = await upload(url, body);
      if (failure === undefined) completed++;
      else errors.set(failure, (errors.get(failure) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const peakBytes = await sampler.stop();
  // Real time is what is measured here: how much memory the target gives back once idle.
  await new Promise((resolve) => setTimeout(resolve, options.settleSeconds * 1000));
  const afterBytes = await residentBytes(pids);
  return { target: target.name, idleBytes, peakBytes, afterBytes, completed, errors, seconds };
}

/** Resident memory in MiB, as the tables show it. */
function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** Copies of the uploads in flight the peak holds over idle. */
export function copiesInFlight(result: UploadsResult, options: UploadsOptions): number {
  const inFlight = Math.min(options.concurrency, options.uploads) * options.sizeMiB * 2 ** 20;
  return (result.peakBytes - result.idleBytes) / inFlight;
}

/** One line per target: uploads, errors, memory idle, at the peak, in copies, and after. */
export function uploadsTable(results: readonly UploadsResult[], options: UploadsOptions): string {
  const header = ["target", "complete", "errors", "time", "idle", "peak", "copies", "after"];
  const lines = results.map((result) => [
    result.target,
    `${result.completed}/${options.uploads}`,
    [...result.errors].map(([why, count]) => `${count} ${why}`).join(", ") || "0",
    `${result.seconds.toFixed(1)} s`,
    mib(result.idleBytes),
    mib(result.peakBytes),
    copiesInFlight(result, options).toFixed(2),
    mib(result.afterBytes),
  ]);
  return table(header, lines, [false, true, false, true, true, true, true, true]);
}
