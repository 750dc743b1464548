import { approversOfVersion } from "../domain/approved-version.ts";
import type { Store, Writes } from "../storage/ports.ts";
import type { TokenIssuer } from "./issuer.ts";

/**
 * At start-up: requests approved before approval tokens existed get theirs,
 * issued as of their approval time (so most are already expired, as they
 * should be), so that every approved request carries a token. In batches, each
 * its own transaction, each token audited as `token_issued`; a no-op (one
 * index lookup) once done.
 */
export async function backfillTokens(
  deps: { store: Store; writes: Writes; tokens: TokenIssuer },
  now: number,
  batch = 500,
): Promise<number> {
  const { store, tokens } = deps;
  let done = 0;
  for (;;) {
    const n = await deps.writes.run(async () => {
      const rows = await store.approvedWithoutToken(batch);
      for (const row of rows) {
        // The same approvers an approval made today would name (finalize.ts): votes on the approved version.
        const approvers = approversOfVersion(row, await store.decisionsFor(row.id));
        const issued = await tokens.issueInTx(row, approvers, row.decidedAt ?? row.createdAt);
        if (await store.setApprovalToken(row.id, issued.token)) {
          await store.audit(row.id, now, "token_issued", "system:upgrade", issued.audit);
        }
      }
      return rows.length;
    });
    done += n;
    if (n < batch) return done;
  }
}
