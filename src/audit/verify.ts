import { type ChainContent, chainHash, GENESIS_HASH } from "./chain.ts";

/** One stored (or exported) audit event as the verifier sees it. */
export interface ChainRow extends ChainContent {
  seq: number;
  prevHash: string | null;
  hash: string | null;
}

export type TamperKind = "edited" | "deleted" | "inserted" | "reordered";

export interface ChainProblem {
  kind: TamperKind;
  /** The first bad event's seq. */
  seq: number;
  message: string;
}

export type VerifyResult =
  | { ok: true; count: number; head: { seq: number; hash: string } | null; start: string | null }
  | { ok: false; count: number; problem: ChainProblem };

export interface VerifyOptions {
  /**
   * "genesis": the first event must follow GENESIS_HASH (the whole log).
   * "first": trust the first event's prev_hash (an export that starts later, `--since`).
   * "unlinked": events are a selection (`--request`): each is checked on its own.
   */
  start: "genesis" | "first" | "unlinked";
  /** A head hash anchored earlier: it must appear in the chain, else the tail was cut. */
  anchor?: string | null;
}

const describe = (r: ChainRow): string =>
  `event ${r.seq} (${r.event}${r.requestId === null ? "" : ` of ${r.requestId}`} at ${new Date(r.at).toISOString()})`;

/**
 * Walks events in seq order, one at a time, keeping only the last two and the one
 * after a broken link (enough to tell a reorder from an insert or a delete), so
 * memory stays flat however long the chain is. Push every row, then call finish().
 */
export class ChainVerifier {
  private count = 0;
  private prev: ChainRow | null = null;
  private prev2: ChainRow | null = null;
  /** A row whose own hash is right but whose link is not; classified once the next row is seen. */
  private suspect: ChainRow | null = null;
  private problem: ChainProblem | null = null;
  private start: string | null = null;
  private anchorSeen = false;

  private readonly options: VerifyOptions;
  constructor(options: VerifyOptions) {
    this.options = options;
  }

  /** Checks one more row; returns false once a problem is known (stop pushing). */
  push(row: ChainRow): boolean {
    if (this.problem) return false;
    if (this.suspect) {
      this.classifyLink(this.suspect, row);
      return false;
    }
    this.count += 1;
    if (row.hash === null || row.prevHash === null) {
      return this.fail("inserted", row, `${describe(row)} was inserted: it has no hash`);
    }
    if (chainHash(row.prevHash, row) !== row.hash) {
      return this.fail("edited", row, `${describe(row)} was edited: its content does not match its hash`);
    }
    if (this.options.start === "unlinked") {
      if (this.prev && row.seq <= this.prev.seq) {
        return this.fail("reordered", row, `${describe(row)} comes after event ${this.prev.seq}`);
      }
    } else {
      const expected = this.prev?.hash ?? (this.options.start === "genesis" ? GENESIS_HASH : row.prevHash);
      if (row.prevHash !== expected) {
        // Bad either way; the next row tells which kind, so keep pushing once more.
        this.suspect = row;
        return true;
      }
      if (this.prev && row.seq !== this.prev.seq + 1) {
        return this.fail("deleted", row, `${missing(this.prev.seq, row.seq)} before ${describe(row)}`);
      }
    }
    if (this.start === null) this.start = row.prevHash;
    if (row.hash === this.options.anchor) this.anchorSeen = true;
    this.prev2 = this.prev;
    this.prev = row;
    return true;
  }

  finish(): VerifyResult {
    if (this.suspect && !this.problem) this.classifyLink(this.suspect, null);
    if (this.problem) return { ok: false, count: this.count, problem: this.problem };
    const head = this.prev === null ? null : { seq: this.prev.seq, hash: this.prev.hash as string };
    if (this.options.anchor && !this.anchorSeen) {
      const at = head === null ? "the log is empty" : `the head is event ${head.seq}`;
      this.problem = {
        kind: "deleted",
        seq: head?.seq ?? 0,
        message: `the anchored hash ${this.options.anchor} is not in the chain (${at}): events after it were deleted, or the chain was rewritten`,
      };
      return { ok: false, count: this.count, problem: this.problem };
    }
    return { ok: true, count: this.count, head, start: this.start };
  }

  private fail(kind: TamperKind, row: ChainRow, message: string): false {
    this.problem = { kind, seq: row.seq, message };
    return false;
  }

  /** `row`'s own hash holds but it does not follow the previous event: find out why. */
  private classifyLink(row: ChainRow, next: ChainRow | null): void {
    const prev = this.prev;
    if (next !== null && next.hash !== null && row.prevHash === next.hash) {
      this.fail("reordered", row, `${describe(row)} is out of order: it belongs after event ${next.seq}`);
    } else if (prev !== null && this.prev2 !== null && row.prevHash === this.prev2.hash) {
      this.fail(
        "inserted",
        prev,
        `${describe(prev)} was inserted: event ${row.seq} follows event ${this.prev2.seq}`,
      );
    } else if (prev === null) {
      this.fail("deleted", row, `${describe(row)} is not the first event: events before it were deleted`);
    } else if (row.seq !== prev.seq + 1) {
      this.fail("deleted", row, `${missing(prev.seq, row.seq)} before ${describe(row)}`);
    } else {
      this.fail(
        "deleted",
        row,
        `${describe(row)} does not follow event ${prev.seq}: an event between them was deleted, or its link was edited`,
      );
    }
  }
}

function missing(before: number, after: number): string {
  return after - before === 2
    ? `event ${before + 1} was deleted`
    : `events ${before + 1}–${after - 1} were deleted`;
}
