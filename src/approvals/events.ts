import type { ChangeBus } from "../storage/ports.ts";

export type WakeReason = "changed" | "timeout" | "aborted";

/**
 * Wakes long-polls the moment a request changes, instead of having them poll
 * the database. Notified by the verbs after their transaction commits.
 */
export class RequestEvents {
  private readonly waiters = new Map<string, Set<() => void>>();

  /**
   * With a bus (several replicas on PostgreSQL), a change is published to
   * every replica, this one included, and waiters wake when it comes back.
   */
  private readonly bus: ChangeBus | null;
  constructor(bus: ChangeBus | null = null) {
    this.bus = bus;
    bus?.subscribe((id) => (id === null ? this.wakeAll() : this.wake(id)));
  }

  /** After a commit: the request changed. */
  notify(id: string): void {
    this.wake(id);
    this.bus?.publish(id);
  }

  /** Wakes every waiter (a replica lost its notices for a while: each re-reads its request). */
  wakeAll(): void {
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  private wake(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const wake of set) wake();
  }

  /** Resolves on the next change of `id`, after `ms`, or when `signal` aborts, saying which. */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<WakeReason> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve("aborted");
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const finish = (reason: WakeReason) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", aborted);
        const current = this.waiters.get(id);
        current?.delete(changed);
        if (current?.size === 0) this.waiters.delete(id);
        resolve(reason);
      };
      const changed = () => finish("changed");
      const aborted = () => finish("aborted");
      const timer = setTimeout(() => finish("timeout"), ms);
      signal?.addEventListener("abort", aborted, { once: true });
      set.add(changed);
    });
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
