/**
 * The bench's child processes: started through one function so that every one of them is
 * stopped however the bench ends (done, failed, or Ctrl-C), with the tail of its output kept
 * for error messages.
 * @module
 */

/** A running child process. */
export interface Child {
  /** What the child is, for messages. */
  readonly name: string;
  readonly pid: number;
  /** Resolves when the child exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** The last part of its stdout and stderr, interleaved as read. */
  output(): string;
  /** Stops the child: SIGTERM, then SIGKILL if it has not exited within a grace period. */
  stop(): Promise<void>;
}

/** Options for {@linkcode spawn}. */
export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Longest wait after SIGTERM before SIGKILL, in ms. @default 2000 */
  readonly grace?: number;
}

/** Output kept per child: enough for an error message or a wrk report. */
const OUTPUT_LIMIT = 64 * 1024;

const running = new Set<Child>();

/** Starts `command` with `args`; the child is stopped by {@linkcode stopAll}. */
export function spawn(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Child {
  const process = new Deno.Command(command, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  // Both pipes are drained so a chatty child never blocks on a full pipe.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const bytes of stream) {
      text = (text + decoder.decode(bytes, { stream: true })).slice(-OUTPUT_LIMIT);
    }
  };
  const drained = Promise.all([drain(process.stdout), drain(process.stderr)]).catch(() => {});
  const status = process.status.then(async (status) => {
    await drained;
    running.delete(child);
    return status;
  });
  const grace = options.grace ?? 2_000;
  const child: Child = {
    name,
    pid: process.pid,
    status,
    output: () => text,
    async stop() {
      if (!running.has(child)) return;
      signal(process, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exited = await Promise.race([
        status.then(() => true),
        new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), grace)),
      ]);
      clearTimeout(timer);
      if (!exited) {
        signal(process, "SIGKILL");
        await status;
      }
    },
  };
  running.add(child);
  return child;
}

function signal(process: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    process.kill(name);
  } catch {
    // It exited between the check and the signal.
  }
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

/**
 * Stops every child, runs `cleanUp` and exits when the bench is interrupted, since exiting
 * skips `finally` blocks. Returns a function that removes the listeners again.
 */
export function stopAllOnSignals(cleanUp: () => Promise<void>): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const onSignal = () => {
    console.error("\nInterrupted: stopping the bench's processes");
    void stopAll().then(cleanUp).finally(() => Deno.exit(130));
  };
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  return () => {
    for (const name of signals) Deno.removeSignalListener(name, onSignal);
  };
}

/**
 * A temporary folder for a bench run's files, and the run's clean-up: disposing of it (or a
 * signal) stops every process the bench started and removes the folder.
 */
export async function benchWorkspace(): Promise<AsyncDisposable & { readonly dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-bench-" });
  const removeDir = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const removeListeners = stopAllOnSignals(removeDir);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await stopAll();
      removeListeners();
      await removeDir();
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago, chosen by the kernel. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Waits until `child` accepts connections on `port`; throws if it exits or takes too long. */
export async function waitForPort(
  child: Child,
  port: number,
  options: { readonly timeout?: number } = {},
): Promise<void> {
  const timeout = options.timeout ?? 60_000;
  const deadline = performance.now() + timeout;
  let exited: Deno.CommandStatus | undefined;
  void child.status.then((status) => exited = status);
  while (performance.now() < deadline) {
    if (exited) {
      throw new Error(
        `Cannot start ${child.name}: it exited with code ${exited.code}\n${child.output()}`,
      );
    }
    try {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port });
      connection.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `Cannot start ${child.name}: port ${port} not open after ${timeout} ms\n${child.output()}`,
  );
}
