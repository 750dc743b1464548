import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** Held for the life of the process that writes the database; `release()` on shutdown. */
export interface DatabaseLock {
  path: string;
  release(): void;
}

/** A second writer on the same database: start-up stops with this message. */
export class DatabaseLockedError extends Error {}

/** True for paths that name no file another process could share. */
export function isMemoryDatabase(path: string): boolean {
  return path === ":memory:" || path === "" || (path.startsWith("file:") && /[?&]mode=memory\b/.test(path));
}

/**
 * Takes the one-writer lock of the database at `path`: an exclusive SQLite
 * lock on the side file `<path>.lock`, kept by a connection in
 * locking_mode=EXCLUSIVE for as long as the process lives. The lock is an OS
 * file lock, so the OS drops it when the process dies (kill -9 included) and
 * there is never a stale lock to clean up; the database itself stays readable
 * by other processes (backups, `audit verify`). Null for `:memory:`.
 */
export function acquireDatabaseLock(path: string): DatabaseLock | null {
  if (isMemoryDatabase(path)) return null;
  const file = path.startsWith("file:") ? new URL(path).pathname : path;
  const lockPath = `${file}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true });
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    // BEGIN EXCLUSIVE first (before any read) so two processes starting at once
    // cannot both hold a shared lock; EXCLUSIVE mode never gives the lock back.
    lock.exec("BEGIN EXCLUSIVE");
    lock.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)");
    lock.prepare("DELETE FROM holder").run();
    lock.prepare("INSERT INTO holder (pid) VALUES (?)").run(process.pid);
    lock.exec("COMMIT");
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY") {
      throw new DatabaseLockedError(
        `DATABASE_PATH: ${path} is in use by another countersign process (it holds ${lockPath}); ` +
          "stop it first, or give this one its own database",
      );
    }
    throw error;
  }
  return { path: lockPath, release: () => lock.close() };
}
