import { createHash } from "node:crypto";

/**
 * A uniform draw in [0, 1) from a seed: the same seed always draws the same
 * number, so a replayed or restarted request is sampled the same way.
 */
export function sampleDraw(seed: string): number {
  const digest = createHash("sha256").update(seed).digest();
  // 48 bits fit a double exactly; far finer than any rate anyone configures.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Whether a request matched by a policy with `sample` goes to humans. The seed is the policy
 * name and the request's identity (its id, or the agent's Idempotency-Key when it sent one).
 */
export function sampledForHumans(sample: number | null, policy: string, identity: string): boolean {
  if (sample === null) return true;
  return sampleDraw(`${policy}\u0000${identity}`) < sample;
}
