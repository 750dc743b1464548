import { readFileSync } from "node:fs";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { ChainVerifier } from "../../src/audit/verify.ts";
import { openPostgres, openPostgresBackend } from "../../src/storage/pg/index.ts";
import type { Backend, Store } from "../../src/storage/ports.ts";
import { StoreUnavailable } from "../../src/storage/unavailable.ts";
import { freePort } from "../support/ports.ts";
import { freshPostgresUrl, onPostgres, startCluster, stopCluster } from "../support/postgres.ts";
import { approve, claimSlack, request } from "../support/store-fixtures.ts";

type Line = { level: string; msg: string };
function recorder() {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (a: unknown, b?: unknown): void =>
      void lines.push({ level, msg: typeof a === "string" ? a : String(b) });
  return { lines, log: { info: at("info"), warn: at("warn"), error: at("error") } as never };
}

const opened: Backend[] = [];
const clusters: string[] = [];
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
  for (const dir of clusters.splice(0)) stopCluster(dir);
});

async function open(url: string, options: { budgetMs?: number } = {}): Promise<Backend> {
  const b = await openPostgresBackend(url, {
    log: recorder().log,
    connectTimeoutMs: 5_000,
    poolSize: 5,
    writes: { budgetMs: options.budgetMs ?? 2_000 },
  });
  opened.push(b);
  return b;
}

/** Two replicas (two pools, two LISTEN connections) on one fresh database. */
async function replicas(): Promise<[Backend, Backend]> {
  const url = await freshPostgresUrl();
  return [await open(url), await open(url)];
}

async function claimCallbacks(
  store: Store,
  now: number,
  leaseMs: number,
  limit: number,
  busy: string[] = [],
) {
  const mine = [];
  for (const row of await store.dueCallbacks(now, limit, busy)) {
    if (await store.leaseCallback(row.id, now, leaseMs)) mine.push({ ...row, nextAttemptAt: now + leaseMs });
  }
  return mine;
}

describe.skipIf(!onPostgres)("PostgreSQL store", () => {
  it("two replicas finalizing one request at once → exactly one true; the loser reads the winner's status", async () => {
    const [a, b] = await replicas();
    await a.store.insertRequest(request("r1"));
    for (let round = 0; round < 5; round += 1) {
      const id = `race-${round}`;
      await a.store.insertRequest(request(id));
      const attempt = (backend: Backend, at: number) =>
        backend.writes.run(async () => {
          const row = await backend.store.getRequest(id); // FOR UPDATE: the second waits for the first's commit
          if (row?.status !== "pending") return { won: false, seen: row?.status };
          return { won: await backend.store.finalize(approve(id, at)), seen: row.status };
        });
      const results = await Promise.all([attempt(a, 1), attempt(b, 2)]);
      expect(results.filter((r) => r.won)).toHaveLength(1);
      expect(results.find((r) => !r.won)?.seen).toBe("approved");
    }
    // Without the read, the conditional UPDATE alone still lets only one through.
    const both = await Promise.all([a.store.finalize(approve("r1", 1)), b.store.finalize(approve("r1", 2))]);
    expect(both.filter(Boolean)).toHaveLength(1);
  });

  it("two replicas claiming the outbox at once get disjoint items, queue heads only, with the channel", async () => {
    const [a, b] = await replicas();
    for (let i = 0; i < 40; i += 1) {
      await a.store.insertRequest(request(`r${i}`, { slackChannel: `C${i}` }));
      await a.store.enqueueSlack(`r${i}`, "post", { i }, 10);
      await a.store.enqueueSlack(`r${i}`, "update", { i }, 10); // waits behind the post
    }
    const [x, y] = await Promise.all([
      claimSlack(a.store, 100, 60_000, 25),
      claimSlack(b.store, 100, 60_000, 25),
    ]);
    // Both read the same 25 due heads; each one is claimed by exactly one of them.
    const ids = [...(x ?? []), ...(y ?? [])].map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    // (One may read its due list after the other leased some: then it sees later heads.)
    expect(ids.length).toBeGreaterThanOrEqual(25);
    ids.push(...(await claimSlack(a.store, 100, 60_000, 40)).map((item) => item.id));
    expect(new Set(ids).size).toBe(40);
    const all = [...(x ?? []), ...(y ?? [])];
    expect(
      all.every((item) => item.kind === "post" && item.channel === `C${JSON.parse(item.payload).i}`),
    ).toBe(true);
    expect(x?.map((i) => i.id)).toEqual([...(x ?? [])].map((i) => i.id).sort((m, n) => m - n));
    // Everything is leased: nothing more until the lease ends.
    expect(await claimSlack(a.store, 100, 60_000, 100)).toEqual([]);
  });

  it("a lease that runs out (the claimer died) → the item is claimed again", async () => {
    const [a, b] = await replicas();
    await a.store.insertRequest(request("r1"));
    await a.store.enqueueSlack("r1", "post", {}, 10);
    const [first] = await claimSlack(a.store, 100, 1_000, 10);
    expect(first?.nextAttemptAt).toBe(1_100);
    expect(await claimSlack(b.store, 1_099, 1_000, 10)).toEqual([]);
    const again = await claimSlack(b.store, 1_100, 1_000, 10);
    expect(again.map((i) => i.id)).toEqual([first?.id]);
    // Done: deleting the head lets the next item of the request through.
    await a.store.enqueueSlack("r1", "update", {}, 10);
    await b.store.deleteSlack(first?.id ?? 0);
    expect((await claimSlack(a.store, 5_000, 1_000, 10)).map((i) => i.kind)).toEqual(["update"]);
    expect(await a.store.outboxDepth()).toBe(1);
  });

  it("callbacks: concurrent claims are disjoint, busy agents are skipped, a lapsed lease is reclaimable", async () => {
    const [a, b] = await replicas();
    for (let i = 0; i < 20; i += 1) {
      await a.store.insertCallback({
        id: `cb${i}`,
        requestId: `r${i}`,
        agent: i < 5 ? "busy" : "free",
        url: "http://127.0.0.1:1/",
        body: "{}",
        createdAt: 1,
        nextAttemptAt: 10 + i,
      });
    }
    const [x, y] = await Promise.all([
      claimCallbacks(a.store, 100, 1_000, 10, ["busy"]),
      claimCallbacks(b.store, 100, 1_000, 10, ["busy"]),
    ]);
    const ids = [...x, ...y].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    ids.push(...(await claimCallbacks(a.store, 100, 1_000, 10, ["busy"])).map((c) => c.id));
    expect(new Set(ids).size).toBe(15);
    // Each claim comes back in due order (next_attempt_at), as on SQLite — not id order (cb10 < cb5).
    for (const claim of [x, y]) {
      const due = claim.map((c) => Number(c.id.slice(2)));
      expect(due).toEqual([...due].sort((m, n) => m - n));
    }
    expect(ids.some((id) => ["cb0", "cb1", "cb2", "cb3", "cb4"].includes(id))).toBe(false);
    expect((await claimCallbacks(a.store, 100, 1_000, 50)).map((c) => c.id).sort()).toEqual(
      ["cb0", "cb1", "cb2", "cb3", "cb4"].sort(),
    );
    await a.store.callbackAttempt({
      id: "cb5",
      nextAttemptAt: null,
      status: 200,
      error: null,
      deliveredAt: 150,
      failedAt: null,
    });
    expect(await a.store.pendingCallbacks()).toBe(19);
    const lapsed = await claimCallbacks(b.store, 1_100, 1_000, 50);
    expect(lapsed).toHaveLength(19);
    expect(await claimCallbacks(a.store, 1_100, 1_000, 50)).toEqual([]);
    expect(Object.keys(lapsed[0] ?? {}).sort()).toEqual(
      Object.keys((await a.store.callbacksFor("r0"))[0] ?? {}).sort(),
    );
    expect((await a.store.callbacksFor("r5"))[0]).toMatchObject({
      attempts: 1,
      lastStatus: 200,
      deliveredAt: 150,
    });
  });

  it("claimTick: 10 concurrent callers on 2 replicas → exactly one true per tick", async () => {
    const [a, b] = await replicas();
    for (const tick of [100, 101, 102]) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).store.claimTick("sweep", tick)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    }
    expect(await a.store.claimTick("sweep", 101)).toBe(false); // an old tick never runs again
    expect(await a.store.claimTick("other", 101)).toBe(true);
  });

  it("channel pauses are shared and keep the later time", async () => {
    const [a, b] = await replicas();
    await a.store.pauseChannel("C1", 1_000, 5_000);
    await b.store.pauseChannel("C1", 500, 6_000);
    await b.store.pauseChannel("C2", 50, 60);
    expect(await a.store.channelPauses(100)).toEqual(new Map([["C1", { until: 1_000, pacedUntil: 6_000 }]]));
    expect((await b.store.channelPauses(10)).size).toBe(2);
  });

  it("audit: 500 events from 20 concurrent transactions on 2 replicas form one chain that verifies", async () => {
    const [a, b] = await replicas();
    await Promise.all(
      Array.from({ length: 20 }, (_, t) =>
        (t % 2 === 0 ? a : b).writes.run(
          async () => {
            const backend = t % 2 === 0 ? a : b;
            for (let i = 0; i < 25; i += 1) {
              await backend.store.audit(`r${t}`, 1_000 + i, "created", `agent:${t}`, { t, i, token: "x" });
            }
          },
          { budgetMs: 30_000 },
        ),
      ),
    );
    const verifier = new ChainVerifier({ start: "genesis" });
    let n = 0;
    for await (const row of b.audit.iterate()) {
      verifier.push(row);
      n += 1;
    }
    const result = verifier.finish();
    expect(result).toMatchObject({ ok: true, count: 500 });
    expect(n).toBe(500);
    expect(await a.audit.head()).toEqual(result.ok ? result.head : null);
    const one: number[] = [];
    for await (const row of a.audit.iterate({ requestId: "r3" })) one.push(row.seq);
    expect(one).toHaveLength(25);
  });

  it("audit: transactions that append and then roll back (a retry, a kill -9) leave no gap: the chain still verifies", async () => {
    const [a, b] = await replicas();
    await a.store.audit("r1", 1, "created", "agent:x", {});
    for (let i = 0; i < 5; i += 1) {
      await expect(
        (i % 2 === 0 ? a : b).writes.run(async () => {
          await (i % 2 === 0 ? a : b).store.audit("r1", 2, "routed", null, { i });
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
    }
    await b.store.audit("r1", 3, "approved", "slack:U1", {});
    const seqs: number[] = [];
    const verifier = new ChainVerifier({ start: "genesis" });
    for await (const row of a.audit.iterate()) {
      seqs.push(row.seq);
      verifier.push(row);
    }
    expect(seqs).toEqual([1, 2]);
    expect(verifier.finish()).toMatchObject({ ok: true, count: 2 });
  });

  it("a publish on replica A wakes replica B's listener (after commit only)", async () => {
    const [a, b] = await replicas();
    const seen: (string | null)[] = [];
    b.bus.subscribe((id) => seen.push(id));
    await a.store
      .tx(async () => {
        a.bus.publish("rolled-back");
        throw new Error("no");
      })
      .catch(() => undefined);
    await a.store.tx(async () => {
      a.bus.publish("r1");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual([]); // not before commit
    });
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual(["r1"]);
  });

  it("a lost LISTEN connection reconnects and tells listeners to re-check (null)", async () => {
    const url = await freshPostgresUrl();
    const a = await open(url);
    const seen: (string | null)[] = [];
    a.bus.subscribe((id) => seen.push(id));
    const db = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'countersign-listen' AND datname = $1",
      [db],
    );
    await admin.end();
    await expect.poll(() => seen, { timeout: 10_000 }).toContain(null);
    a.bus.publish("after");
    await expect.poll(() => seen, { timeout: 5_000 }).toContain("after");
  });

  it("keys: one active key shared by every replica; retire and reactivate", async () => {
    const [a, b] = await replicas();
    await a.keys.tx(async () => {
      if ((await a.keys.active()) === undefined)
        await a.keys.insert({
          kid: "k1",
          x: "x",
          privateKey: "pem",
          createdAt: 1,
          retiredAt: null,
          publishUntil: null,
        });
    });
    expect((await b.keys.active())?.kid).toBe("k1");
    await expect(
      b.keys.insert({
        kid: "k2",
        x: "x",
        privateKey: "pem",
        createdAt: 2,
        retiredAt: null,
        publishUntil: null,
      }),
    ).rejects.toMatchObject({ cause: { code: "23505" } });
    await b.keys.retire("k1", 10, 20);
    expect(await a.keys.active()).toBeUndefined();
    expect(await a.keys.byKid("k1")).toMatchObject({ retiredAt: 10, publishUntil: 20 });
    await a.keys.reactivate("k1");
    expect((await b.keys.all()).map((k) => k.kid)).toEqual(["k1"]);
  });

  it("five replicas bootstrapping the signing key at once → one key, every replica uses it", async () => {
    const url = await freshPostgresUrl();
    const backends = await Promise.all(Array.from({ length: 5 }, () => open(url)));
    const kids = await Promise.all(
      backends.map((b, i) =>
        b.keys.tx(async () => {
          const active = await b.keys.active();
          if (active) return active.kid;
          await b.keys.insert({
            kid: `k${i}`,
            x: "x",
            privateKey: "pem",
            createdAt: i,
            retiredAt: null,
            publishUntil: null,
          });
          return `k${i}`;
        }),
      ),
    );
    expect(new Set(kids).size).toBe(1);
    expect(await backends[0]?.keys.all()).toHaveLength(1);
  });

  it("two replicas creating with one idempotency key at once → one row, both see it (23505 retried)", async () => {
    const [a, b] = await replicas();
    for (let round = 0; round < 3; round += 1) {
      // Both transactions look the key up (and find nothing) before either inserts.
      let arrived = 0;
      let release = () => {};
      const bothLooked = new Promise<void>((resolve) => {
        release = resolve;
      });
      const create = (backend: Backend, id: string) =>
        backend.writes.run(async () => {
          const existing = await backend.store.findByIdempotencyKey("agent-1", `key-${round}`);
          arrived += 1;
          if (arrived === 2) release();
          await bothLooked;
          if (existing) return existing.id;
          await backend.store.insertRequest(request(id, { idempotencyKey: `key-${round}` }));
          await backend.store.audit(id, 1, "created", null);
          return id;
        });
      const [x, y] = await Promise.all([create(a, `a${round}`), create(b, `b${round}`)]);
      expect(x).toBe(y);
    }
  });

  it("start-up waits for a closed port with a clear message per attempt, then names the host", async () => {
    const port = await freePort();
    const { lines, log } = recorder();
    await expect(
      openPostgres(`postgres://u:secret@127.0.0.1:${port}/db`, { log, connectTimeoutMs: 700 }),
    ).rejects.toThrow(`PostgreSQL at 127.0.0.1:${port} did not answer within`);
    const waits = lines.filter((l) =>
      l.msg.startsWith(`waiting for PostgreSQL at 127.0.0.1:${port} (attempt `),
    );
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits[0]?.msg).toMatch(/\(attempt 1\): .*ECONNREFUSED/);
    expect(lines.some((l) => l.msg.includes("secret"))).toBe(false);
  });

  it("several replicas starting at once migrate exactly once", async () => {
    const { adminUrl } = { adminUrl: await freshPostgresUrl() };
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const name = `${new URL(adminUrl).pathname.slice(1)}_empty`;
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    const backends = await Promise.all([open(u.toString()), open(u.toString()), open(u.toString())]);
    const check = new pg.Client({ connectionString: u.toString() });
    await check.connect();
    const { rows } = await check.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
    await check.end();
    // One row per migration file, however many replicas raced to apply them.
    const journal = JSON.parse(readFileSync("migrations/pg/meta/_journal.json", "utf8")) as {
      entries: unknown[];
    };
    expect(rows[0].n).toBe(journal.entries.length);
    expect(await backends[2]?.store.ping()).toBe(true);
  });

  it("idle pooled connections killed by the server → logged, not a crash; the next query gets a new one", async () => {
    const url = await freshPostgresUrl();
    const { lines, log } = recorder();
    const b = await openPostgresBackend(url, { log, connectTimeoutMs: 5_000, poolSize: 3 });
    opened.push(b);
    await Promise.all([b.store.outboxDepth(), b.store.outboxDepth(), b.store.outboxDepth()]);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'countersign' AND datname = $1",
      [new URL(url).pathname.slice(1)],
    );
    await admin.end();
    expect(rowCount).toBeGreaterThan(0);
    await expect
      .poll(() => lines.filter((l) => l.msg.includes("lost (idle)")).length, { timeout: 10_000 })
      .toBe(rowCount);
    expect(await b.store.outboxDepth()).toBe(0);
  });

  it("a transaction whose connection is cut mid-way → run again on a new connection, stored once", async () => {
    const url = await freshPostgresUrl();
    const a = await open(url);
    await a.store.insertRequest(request("r1"));
    let attempts = 0;
    const won = await a.writes.run(async () => {
      attempts += 1;
      const row = await a.store.getRequest("r1");
      if (attempts === 1) {
        // Our connection now sits idle in the transaction: the server kills it.
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = $1",
          [new URL(url).pathname.slice(1)],
        );
        await admin.end();
      }
      await a.store.audit("r1", 1, "approved", null);
      return row?.status === "pending" && (await a.store.finalize(approve("r1", 1)));
    });
    expect(won).toBe(true);
    expect(attempts).toBe(2);
    expect((await a.store.auditFor("r1")).map((r) => r.event)).toEqual(["approved"]);
  });

  it("every pooled connection busy past the budget → the write is refused with StoreUnavailable, the others commit", async () => {
    const url = await freshPostgresUrl();
    const b = await openPostgresBackend(url, {
      log: recorder().log,
      poolSize: 1,
      writes: { budgetMs: 200 },
    });
    opened.push(b);
    await b.store.insertRequest(request("r1"));
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = b.writes.run(async () => {
      await b.store.setOutcome("r1", "x");
      await held;
      return b.store.finalize(approve("r1", 1));
    });
    const second = b.writes.run(() => b.store.setThreadTs("r1", "t"), { budgetMs: 200 });
    await expect(second).rejects.toBeInstanceOf(StoreUnavailable);
    release();
    expect(await first).toBe(true);
    expect(await b.store.getRequest("r1")).toMatchObject({ status: "approved", slackThreadTs: null });
    // The connection that arrived too late went back to the pool: the next write gets it.
    await b.writes.run(() => b.store.setThreadTs("r1", "t2"));
    expect((await b.store.getRequest("r1"))?.slackThreadTs).toBe("t2");
  });

  it("server stopped → writes are refused with StoreUnavailable within the budget, nothing acknowledged", async () => {
    const cluster = startCluster();
    clusters.push(cluster.dir);
    const b = await open(cluster.url, { budgetMs: 500 });
    await b.store.insertRequest(request("r1"));
    expect(await b.writes.canWrite()).toBe(true);
    stopCluster(cluster.dir);
    clusters.pop();
    await expect(b.writes.run(() => b.store.finalize(approve("r1", 1)))).rejects.toBeInstanceOf(
      StoreUnavailable,
    );
    expect(b.writes.failing?.error).toBeInstanceOf(StoreUnavailable);
    expect(await b.writes.canWrite()).toBe(false);
    expect(await b.store.ping()).toBe(false);
  });
});
