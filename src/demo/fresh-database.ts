import { rmSync } from "node:fs";
import { acquireDatabaseLock, isMemoryDatabase } from "../storage/open.ts";

/**
 * Empties the demo's database for a new run (the simulated Slack lives in
 * memory, so yesterday's requests would point at messages it never had) —
 * only while holding the database's one-writer lock, so a second
 * `npm run demo` is refused (DatabaseLockedError, naming DATABASE_PATH)
 * before it touches the files a running demo uses. The lock is released for
 * the service to take; a demo that starts in between loses that race at the
 * service's own lock, after nothing of the winner's was deleted.
 */
export function freshDemoDatabase(path: string): void {
  if (isMemoryDatabase(path)) return;
  const lock = acquireDatabaseLock(path);
  try {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
  } finally {
    lock?.release();
  }
}
