import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/config/duration.ts";

describe("parseDuration", () => {
  it.each([
    ["1s", 1_000],
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["4h", 14_400_000],
    ["2d", 172_800_000],
    ["120m", 7_200_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    "",
    "0s",
    "0m",
    "-5m",
    "1.5h",
    "1h30m",
    "30",
    "m",
    "30 m",
    "30M",
    "30ms",
    "01m",
    " 30m",
    "2w",
    "9999999999999999d",
  ])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe("formatDuration", () => {
  it.each([
    [1_800_000, "30m"],
    [3_600_000, "1h"],
    [90_000, "90s"],
    [172_800_000, "2d"],
    [5_400_000, "90m"],
    [86_400_000 + 3_600_000, "25h"],
    [1_000, "1s"],
    [0, "0s"],
    [1_500, "1s500ms"],
    [5_401_500, "1h30m1s500ms"],
    [250, "250ms"],
    [-60_000, "-1m"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("reads back unchanged through parseDuration for whole seconds", () => {
    for (const ms of [1_000, 59_000, 61_000, 3_600_000, 5_400_000, 7_200_000, 86_400_000, 90_061_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
