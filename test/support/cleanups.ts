import { afterEach } from "vitest";
import { type FakeSlack, startFakeSlack } from "../../src/fake-slack/slack-api.ts";
import { validateMessage } from "../../src/slack/render/index.ts";
import { type Harness, type HarnessOptions, startHarness } from "./harness.ts";
import { type Receiver, type Respond, startReceiver } from "./receiver.ts";

type Cleanup = () => Promise<void> | void;

export interface Cleanups {
  push(fn: Cleanup): void;
  /** A service harness stopped after the test. */
  harness(options?: HarnessOptions): Promise<Harness>;
  /** A callback receiver closed after the test. */
  receiver(respond?: Respond, port?: number): Promise<Receiver>;
  /** A fake Slack (checking Block Kit like the real one) closed after the test. */
  fakeSlack(): Promise<FakeSlack>;
}

/**
 * Teardown for one test file: whatever a test starts or pushes is stopped
 * after it, newest first, even when the test failed.
 */
export function useCleanups(): Cleanups {
  const pending: Cleanup[] = [];
  afterEach(async () => {
    for (const fn of pending.splice(0).reverse()) await fn();
  });
  const push = (fn: Cleanup) => void pending.push(fn);
  return {
    push,
    async harness(options) {
      const h = await startHarness(options);
      push(() => h.stop());
      return h;
    },
    async receiver(respond, port) {
      const r = await startReceiver(respond, port);
      push(() => r.close());
      return r;
    },
    async fakeSlack() {
      const s = await startFakeSlack({ validateBlocks: (b) => validateMessage(b) });
      push(() => s.close());
      return s;
    },
  };
}
