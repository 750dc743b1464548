import { describe, expect, it } from "vitest";
import { loadDemoEnv } from "../../src/config/demo-env.ts";

describe("demo settings", () => {
  it("defaults: PORT 3000, SIM_PORT 3001, LOG_LEVEL warn, ./data/demo.db; Slack settings are ignored", () => {
    expect(loadDemoEnv({ SLACK_BOT_TOKEN: "xoxb-real" })).toEqual({
      ok: true,
      env: { port: 3000, simPort: 3001, logLevel: "warn", socketMode: false, databasePath: "./data/demo.db" },
    });
  });

  it("DATABASE_PATH → the demo's own database there (a second demo beside a first)", () => {
    expect(loadDemoEnv({ DATABASE_PATH: " ./data/demo-2.db " })).toMatchObject({
      ok: true,
      env: { databasePath: "./data/demo-2.db" },
    });
  });

  it("DEMO_SOCKET_MODE=1 → Socket Mode; anything but 1/0/true/false is named", () => {
    expect(loadDemoEnv({ DEMO_SOCKET_MODE: "1" })).toMatchObject({ ok: true, env: { socketMode: true } });
    expect(loadDemoEnv({ DEMO_SOCKET_MODE: "false" })).toMatchObject({
      ok: true,
      env: { socketMode: false },
    });
    const bad = loadDemoEnv({ DEMO_SOCKET_MODE: "yes" });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.problems).toEqual([expect.stringMatching(/^DEMO_SOCKET_MODE: must be 1, 0, true or false/)]);
  });

  it("bad values are named, all at once", () => {
    const result = loadDemoEnv({ PORT: "70000", SIM_PORT: "x", LOG_LEVEL: "loud" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.stringMatching(/^PORT: must be an integer between 0 and 65535/),
      expect.stringMatching(/^SIM_PORT: must be an integer/),
      expect.stringMatching(/^LOG_LEVEL: must be one of debug, info, warn, error/),
    ]);
  });
});
