import type { Clock } from "../../src/clock.ts";

/** A clock that moves only when a test says so. */
export class FakeClock implements Clock {
  private ms: number;
  constructor(ms = Date.parse("2026-11-22T10:00:00.000Z")) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}
