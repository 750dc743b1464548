import type { Backend, ChangeBus } from "../ports.ts";
import { createSqliteAuditReader } from "./audit.ts";
import { createGroupCommit, type GroupCommitOptions } from "./group-commit.ts";
import { createKeyStore } from "./keys.ts";
import { type OpenDatabase, openDatabase } from "./open.ts";
import { createStore } from "./store.ts";

/** One process owns a SQLite file (lock.ts): "changed" notices never leave it. */
export function createLocalBus(): ChangeBus {
  const listeners: ((requestId: string | null) => void)[] = [];
  return {
    publish: (requestId) => {
      for (const listener of listeners) listener(requestId);
    },
    subscribe: (listener) => void listeners.push(listener),
  };
}

/** The embedded default: a SQLite file (or an already open database), migrated on open. */
export function openSqliteBackend(
  database: string | OpenDatabase,
  options: { redact?: <T>(value: T) => T; writes?: GroupCommitOptions } = {},
): Backend & { database: OpenDatabase } {
  const opened = typeof database === "string" ? openDatabase(database) : database;
  const writes = createGroupCommit(opened, options.writes);
  return {
    dialect: "sqlite",
    database: opened,
    store: createStore(opened, options.redact ? { redact: options.redact } : {}),
    writes,
    keys: createKeyStore(opened),
    audit: createSqliteAuditReader(opened.sqlite),
    bus: createLocalBus(),
    async close() {
      writes.close();
      opened.sqlite.close();
    },
  };
}
