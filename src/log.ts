import type { Logger as BoltLogger, LogLevel as BoltLogLevel } from "@slack/bolt";
import { type Logger, pino } from "pino";

/** Structured JSON logs on stdout. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: "countersign" } }, destination ?? process.stdout);
}

/** Bolt and the Web API client log through the same pino logger. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: "bolt" });
  const write =
    (level: "debug" | "info" | "warn" | "error") =>
    (...msg: unknown[]) =>
      child[level](msg.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" "));
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    setLevel: () => {},
    getLevel: () => child.level as BoltLogLevel,
    setName: () => {},
  };
}
