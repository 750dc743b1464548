import { afterEach } from "vitest";

type Cleanup = () => Promise<void> | void;

/**
 * Teardown for one test file: whatever a test pushes runs after it, newest
 * first, even when the test failed.
 */
export function useCleanups(): { push(fn: Cleanup): void } {
  const pending: Cleanup[] = [];
  afterEach(async () => {
    for (const fn of pending.splice(0).reverse()) await fn();
  });
  return { push: (fn) => void pending.push(fn) };
}
