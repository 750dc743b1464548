import { performance } from "node:perf_hooks";

export interface WorkLoopOptions {
  /** How often to look for work that fell due (retries) without a kick. */
  pollMs: number;
  /** Kicks closer together than this share one pass, so a burst of writes costs one scan. */
  minGapMs?: number;
  /** Called when a pass throws (the loop goes on at the next kick or poll). */
  onError?: (error: unknown) => void;
}

/**
 * The scheduling shared by the durable-queue workers: `kick()` asks for a pass
 * soon (coalescing bursts), a poll timer catches retries that fell due, and
 * nothing runs once stopped.
 */
export function createWorkLoop(pass: () => void | Promise<void>, options: WorkLoopOptions) {
  const minGapMs = options.minGapMs ?? 5;
  let scheduled = false;
  let stopped = true;
  let lastPass = Number.NEGATIVE_INFINITY;
  let poll: NodeJS.Timeout | null = null;
  // One pass at a time: a kick during a pass runs another right after it.
  let running = false;
  let again = false;

  async function run(): Promise<void> {
    scheduled = false;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    lastPass = performance.now();
    try {
      await pass();
    } catch (error) {
      options.onError?.(error);
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      kick();
    }
    if (poll === null && !stopped) {
      poll = setTimeout(() => {
        poll = null;
        kick();
      }, options.pollMs);
      poll.unref();
    }
  }

  function kick(): void {
    if (stopped || scheduled) return;
    scheduled = true;
    const wait = minGapMs - (performance.now() - lastPass);
    if (wait > 0) setTimeout(() => void run(), wait);
    else setImmediate(() => void run());
  }

  return {
    kick,
    start(): void {
      stopped = false;
      kick();
    },
    stop(): void {
      stopped = true;
      if (poll !== null) clearTimeout(poll);
      poll = null;
    },
    get stopped(): boolean {
      return stopped;
    },
  };
}

/**
 * Keeps a claim alive while its work runs: renews it every third of the lease,
 * so a live replica never loses an item to another because a call was slow;
 * one that dies stops renewing and its claim lapses. Call the returned stop()
 * when the work is done.
 */
export function keepLeased(
  leaseMs: number,
  renew: () => Promise<void>,
  onError: (error: unknown) => void,
): () => void {
  const timer = setInterval(() => renew().catch(onError), Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
