import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOKENS } from "../support/config.ts";
import { REFUND } from "../support/harness.ts";
import { type ApiHarness, expectError, issuePaths, startApi } from "./helpers.ts";

let h: ApiHarness;
beforeEach(async () => {
  h = await startApi();
});
afterEach(async () => {
  await h?.stop();
});

const T0 = Date.parse("2026-11-22T10:00:00.000Z");

/** Creates `n` requests one millisecond apart (every other one rejected by policy); ids oldest first. */
async function createMany(n: number, sameMillisecond = false): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    if (!sameMillisecond) h.clock.set(T0 + i);
    const body =
      i % 2 === 0
        ? { ...REFUND, summary: `refund ${i}` }
        : { action: "db.drop_table", summary: `drop ${i}`, params: { table: `t${i}` } };
    const res = await h.create(body);
    expect(res.status).toBe(201);
    ids.push(res.json.id);
  }
  return ids;
}

async function allPages(query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = query === "" ? "?" : "&";
    const res = await h.api("GET", `/v1/requests${query}${cursor === null ? "" : `${sep}cursor=${cursor}`}`);
    expect(res.status).toBe(200);
    ids.push(...res.json.data.map((r: { id: string }) => r.id));
    cursor = res.json.next_cursor;
    pages += 1;
  } while (cursor !== null);
  return { ids, pages };
}

describe("GET /v1/requests → the agent's own requests, newest first", () => {
  it("no requests yet → 200 { data: [], next_cursor: null }", async () => {
    const res = await h.api("GET", "/v1/requests");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: [], next_cursor: null });
  });

  it("5 requests, limit=2 → three pages, newest first, each a full resource, none twice", async () => {
    const ids = await createMany(5);
    const first = await h.api("GET", "/v1/requests?limit=2");
    expect(first.json.data.map((r: { id: string }) => r.id)).toEqual([ids[4], ids[3]]);
    expect(first.json.data[0]).toMatchObject({ summary: "refund 4", status: "pending", decisions: [] });
    expect(first.json.next_cursor).toEqual(expect.any(String));
    expect(await allPages("?limit=2")).toEqual({ ids: [...ids].reverse(), pages: 3 });
  });

  it("requests created in the same millisecond → paged by id, none lost or repeated", async () => {
    const ids = await createMany(7, true);
    const { ids: listed } = await allPages("?limit=3");
    expect(listed).toHaveLength(7);
    expect(new Set(listed)).toEqual(new Set(ids));
  });

  it("status=rejected → only rejected ones, still paged", async () => {
    const ids = await createMany(6);
    const rejected = [ids[5], ids[3], ids[1]];
    expect((await allPages("?status=rejected&limit=2")).ids).toEqual(rejected);
    const pending = await h.api("GET", "/v1/requests?status=pending");
    expect(pending.json.data.map((r: { status: string }) => r.status)).toEqual([
      "pending",
      "pending",
      "pending",
    ]);
  });

  it("another agent's requests are never listed", async () => {
    await createMany(2);
    const other = await h.api("GET", "/v1/requests", undefined, { token: TOKENS.deploy });
    expect(other.status).toBe(200);
    expect(other.json).toEqual({ data: [], next_cursor: null });
  });

  it.each([
    ["status=done", "status"],
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["cursor=bogus", "cursor"],
    ["stauts=pending", "stauts"],
  ])("?%s → 400 invalid_request naming %s", async (query, path) => {
    const res = await h.api("GET", `/v1/requests?${query}`);
    expectError(res, 400, "invalid_request");
    expect(issuePaths(res)).toEqual([path]);
  });

  it("no token → 401", async () => {
    const res = await h.api("GET", "/v1/requests", undefined, { token: null });
    expectError(res, 401, "unauthorized");
  });
});

describe("GET / → a JSON pointer to the docs", () => {
  it("answers 200 JSON naming the service, the docs and the endpoints", async () => {
    const res = await fetch(`${h.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({
      service: "countersign",
      docs: expect.stringContaining("Agent API"),
      endpoints: { requests: "/v1/requests", health: "/healthz" },
    });
  });
});

describe("evidence items need text or url", () => {
  it("an evidence item with only a title → 400 naming evidence[1], nothing stored", async () => {
    const res = await h.refused(() =>
      h.create({ ...REFUND, evidence: [{ title: "ok", text: "x" }, { title: "Order" }] }),
    );
    expectError(res, 400, "invalid_request");
    expect(issuePaths(res)).toEqual(["evidence[1]"]);
  });

  it("title + url, title + text → 201", async () => {
    const res = await h.create({
      ...REFUND,
      evidence: [
        { title: "Order", url: "https://shop.example.com/orders/1" },
        { title: "Note", text: "n" },
      ],
    });
    expect(res.status).toBe(201);
  });
});
