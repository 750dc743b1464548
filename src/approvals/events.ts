/**
 * Wakes long-polls the moment a request changes, instead of having them poll
 * the database. Notified by the verbs after their transaction commits.
 */
export class RequestEvents {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const wake of set) wake();
  }

  /** Resolves on the next change of `id`, after `ms`, or when `signal` aborts. */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const current = this.waiters.get(id);
        current?.delete(done);
        if (current?.size === 0) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }

  /** Answers every waiting long-poll now (used at shutdown). */
  wakeAll(): void {
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }

  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
