/** The child half of bench/lib/child.ts: options in, `ready` out, RPC handlers. */

export function childOptions<T>(): T {
  const raw = process.env.BENCH_CHILD_OPTIONS;
  if (raw === undefined)
    throw new Error("BENCH_CHILD_OPTIONS is not set; start this file with bench/lib/child.ts");
  return JSON.parse(raw) as T;
}

export function ready(info: unknown): void {
  process.send?.({ type: "ready", info });
}

type Handler = (args: never) => unknown;

/**
 * Answers `{ id, cmd, args }` messages from the parent. `stop` runs the given
 * cleanup and exits 0, so a --cpu-prof profile is written.
 */
export function serveRpc(handlers: Record<string, Handler>, stop: () => Promise<void>): void {
  process.on("message", (message: unknown) => {
    const { id, cmd, args } = message as { id: number; cmd: string; args: unknown };
    if (cmd === "stop") {
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`stop failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
      return;
    }
    const handler = handlers[cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${cmd}`);
        return (handler as (a: unknown) => unknown)(args);
      })
      .then(
        (result) => process.send?.({ id, ok: true, result }),
        (error: unknown) => process.send?.({ id, ok: false, error: String(error) }),
      );
  });
  // The parent going away must not leave a server running.
  process.on("disconnect", () => process.exit(0));
}
