import { createHash, randomUUID } from "node:crypto";
import { canonicalJson } from "../canonical.ts";

const MAX_ENTRIES = 10_000;

/**
 * Idempotency keys for tool calls that create requests, so that a call retried after a
 * client timeout finds the request it already made instead of asking twice.
 *
 * Identical arguments (canonical JSON) share one random salt, and so one key, until a
 * final decision on that request has been answered to a call that was not cancelled;
 * then the salt is dropped and the next identical call is a new question, so a decision
 * is never reused by accident (nor after a restart: salts live in memory only). A call
 * that carries its own identity (Claude Code's tool_use_id) derives its key from it.
 */
export class CallKeys {
  readonly #salts = new Map<string, string>();
  readonly #digests = new Map<string, string>();

  /** The Idempotency-Key for a call with these arguments (and its own identity, when it has one). */
  keyFor(args: unknown, identity?: string): { key: string; digest: string } {
    const digest = sha256(canonicalJson({ args, identity: identity ?? null }));
    if (identity !== undefined) return { key: `mcp-${digest}`, digest };
    let salt = this.#salts.get(digest);
    if (salt === undefined) {
      salt = randomUUID();
      this.#salts.set(digest, salt);
      // Forgetting the oldest only costs its resumption, never reuses a decision.
      if (this.#salts.size > MAX_ENTRIES) this.#salts.delete(this.#salts.keys().next().value as string);
    }
    return { key: `mcp-${sha256(`${salt}.${digest}`)}`, digest };
  }

  /** The request a key made, so that a final answer about it by id also ends its key. */
  created(digest: string, requestId: string): void {
    this.#digests.set(requestId, digest);
    if (this.#digests.size > MAX_ENTRIES) this.#digests.delete(this.#digests.keys().next().value as string);
  }

  /** A final decision on this request reached the client: the next identical call asks anew. */
  answered(requestId: string): void {
    const digest = this.#digests.get(requestId);
    if (digest === undefined) return;
    this.#digests.delete(requestId);
    this.#salts.delete(digest);
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
