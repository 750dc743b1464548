import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { z } from "zod";
import { canonicalJson } from "../domain/canonical-json.ts";
import type { ChainRow, VerifyOptions } from "./verify.ts";

/**
 * Audit exports are JSON Lines: a header line saying what was selected, then one
 * event per line with its hashes, in seq order. `detail` is written exactly as
 * stored (canonical JSON), so `audit verify --file` recomputes the same hashes
 * without the database.
 */
export const EXPORT_TYPE = "countersign.audit-export";

const headerSchema = z.object({
  type: z.literal(EXPORT_TYPE),
  version: z.literal(1),
  since: z.string().nullable(),
  request: z.string().nullable(),
});
export type ExportHeader = z.infer<typeof headerSchema>;

const isoMs = z.iso.datetime({ precision: 3 }).transform((s) => Date.parse(s));
const lineSchema = z.strictObject({
  seq: z.number().int().positive(),
  at: isoMs,
  request_id: z.string().nullable(),
  event: z.string(),
  actor: z.string().nullable(),
  detail: z.unknown(),
  prev_hash: z.string().nullable(),
  hash: z.string().nullable(),
});

export function exportHeaderLine(header: Omit<ExportHeader, "type" | "version">): string {
  return JSON.stringify({ type: EXPORT_TYPE, version: 1, ...header });
}

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

export function exportLine(r: ChainRow): string {
  return `{"seq":${r.seq},"at":"${new Date(r.at).toISOString()}","request_id":${str(r.requestId)},"event":${str(r.event)},"actor":${str(r.actor)},"detail":${r.detail ?? "null"},"prev_hash":${str(r.prevHash)},"hash":${str(r.hash)}}`;
}

/** How an export must be verified: whole log, from its first event, or event by event. */
export function verifyModeOf(header: ExportHeader): VerifyOptions["start"] {
  if (header.request !== null) return "unlinked";
  return header.since !== null ? "first" : "genesis";
}

/** Writes the header and every row, waiting for the stream when it is full (bounded memory). */
export async function writeExport(
  rows: Iterable<ChainRow> | AsyncIterable<ChainRow>,
  header: Omit<ExportHeader, "type" | "version">,
  out: Writable,
): Promise<number> {
  let n = 0;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain");
  };
  await write(exportHeaderLine(header));
  for await (const row of rows) {
    await write(exportLine(row));
    n += 1;
  }
  return n;
}

export class ExportFormatError extends Error {}

/** Reads an export line by line: the header first, then each event as a ChainRow. */
export async function readExport(
  input: Readable,
): Promise<{ header: ExportHeader; rows: AsyncGenerator<ChainRow> }> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new ExportFormatError("the file is empty; expected a countersign audit export");
  const header = headerSchema.safeParse(parseJson(first.value, 1));
  if (!header.success) {
    throw new ExportFormatError(
      `line 1 is not the header of a countersign audit export (${EXPORT_TYPE} version 1)`,
    );
  }
  async function* rows(): AsyncGenerator<ChainRow> {
    let lineNo = 1;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      lineNo += 1;
      if (next.value.trim() === "") continue;
      const parsed = lineSchema.safeParse(parseJson(next.value, lineNo));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ExportFormatError(
          `line ${lineNo} is not an audit event: ${issue?.path.join(".") || "(line)"}: ${issue?.message ?? "invalid"}`,
        );
      }
      const e = parsed.data;
      yield {
        seq: e.seq,
        at: e.at,
        requestId: e.request_id,
        event: e.event,
        actor: e.actor,
        detail: e.detail === null || e.detail === undefined ? null : canonicalJson(e.detail),
        prevHash: e.prev_hash,
        hash: e.hash,
      };
    }
  }
  return { header: header.data, rows: rows() };
}

function parseJson(text: string, lineNo: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ExportFormatError(`line ${lineNo} is not JSON`);
  }
}
