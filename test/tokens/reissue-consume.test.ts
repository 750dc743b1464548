import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import type { KeyStore } from "../../src/db/backend.ts";
import { openDatabase } from "../../src/db/open.ts";
import { openPostgresBackend } from "../../src/db/pg/index.ts";
import { createKeyStore } from "../../src/db/signing-keys.ts";
import { rotateSigningKey } from "../../src/tokens/keys.ts";
import { expectError } from "../api/helpers.ts";
import { useCleanups } from "../support/cleanups.ts";
import { FakeClock } from "../support/clock.ts";
import { TOKENS } from "../support/config.ts";
import { type Harness, postgresUrlFor, REFUND, tempDir } from "../support/harness.ts";
import { onPostgres } from "../support/postgres.ts";
import { auditEvents, createPosted } from "../support/requests.ts";

/**
 * POST /v1/requests/:id/token (a fresh token for an approved request whose
 * action has not run) and POST /v1/tokens/consume (single use by jti, the
 * database's primary key deciding, also across replicas).
 */
const cleanups = useCleanups();
const MINUTE = 60_000;
const SMALL = { ...REFUND, params: { amount: 20, currency: "USD", order_id: "48213" } };

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;

async function verify(h: Harness, token: string) {
  const jwks = (await h.api("GET", "/.well-known/jwks.json", undefined, { token: null }))
    .json as JSONWebKeySet;
  return jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: ["EdDSA"],
    issuer: "countersign",
    audience: "support-bot",
    currentDate: new Date(h.clock.now()),
  });
}

/** The signing keys through a second connection to the harness's database, as the CLI opens it. */
async function otherConnection(dbPath: string): Promise<{ keys: KeyStore; close: () => Promise<void> }> {
  if (!onPostgres) {
    const database = openDatabase(dbPath);
    return { keys: createKeyStore(database), close: async () => void database.sqlite.close() };
  }
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const backend = await openPostgresBackend(await postgresUrlFor(dbPath), { log: quiet, migrate: false });
  return { keys: backend.keys, close: () => backend.close() };
}

async function approved(h: Harness): Promise<{ id: string; token: string }> {
  const created = await h.create(SMALL);
  expect(created.json).toMatchObject({ status: "approved", resolution: "approved_by_policy" });
  return { id: created.json.id, token: created.json.approval_token };
}

const reissue = (h: Harness, id: string, token: string = TOKENS.support) =>
  h.api("POST", `/v1/requests/${id}/token`, undefined, { token });
const consume = (h: Harness, jti: unknown, token: string = TOKENS.support) =>
  h.api("POST", "/v1/tokens/consume", { jti }, { token });

describe("POST /v1/requests/:id/token", () => {
  it("approved, no outcome, 20 min later (first token expired) → 200: same claims, new iat/exp/jti, verifies; resource shows it; audited", async () => {
    const h = await cleanups.harness();
    const { id, token } = await approved(h);
    h.clock.advance(20 * MINUTE);
    await expect(verify(h, token)).rejects.toThrow(/exp/);

    const res = await reissue(h, id);
    expect(res.status).toBe(200);
    const fresh = res.json.approval_token as string;
    expect(res.json).toMatchObject({ id, status: "approved" });
    expect(fresh).not.toBe(token);
    const before = claimsOf(token);
    const after = claimsOf(fresh);
    const { iat: _i1, exp: _e1, jti: _j1, ...sameBefore } = before;
    const { iat: _i2, exp: _e2, jti: _j2, ...sameAfter } = after;
    expect(sameAfter).toEqual(sameBefore);
    expect(after.iat).toBe(Math.floor(h.clock.now() / 1000));
    expect((after.exp as number) - (after.iat as number)).toBe(
      (before.exp as number) - (before.iat as number),
    );
    expect(after.jti).not.toBe(before.jti);
    const { payload } = await verify(h, fresh);
    expect(payload.sub).toBe(id);

    expect((await h.api("GET", `/v1/requests/${id}`)).json.approval_token).toBe(fresh);
    const events = (await h.api("GET", `/v1/requests/${id}/events`)).json as {
      event: string;
      actor: string;
      detail: Record<string, unknown>;
    }[];
    const audited = events.find((e) => e.event === "token_reissued");
    expect(audited).toMatchObject({
      actor: "agent:support-bot",
      detail: { jti: after.jti, replaces: before.jti, exp: after.exp },
    });
  });

  it("the replaced token is burnt: consuming it → 409 token_used naming the re-issue; the new one consumes once", async () => {
    const h = await cleanups.harness();
    const { id, token } = await approved(h);
    const fresh = (await reissue(h, id)).json.approval_token as string;
    const old = await consume(h, claimsOf(token).jti);
    expect(expectError(old, 409, "token_used").message).toMatch(/re-issued/);
    expect((await consume(h, claimsOf(fresh).jti)).status).toBe(200);
    expectError(await consume(h, claimsOf(fresh).jti), 409, "token_used");
  });

  it("once its token was consumed → 409 token_used, nothing changes (the action has run or is running)", async () => {
    const h = await cleanups.harness();
    const { id, token } = await approved(h);
    expect((await consume(h, claimsOf(token).jti)).status).toBe(200);
    const res = await reissue(h, id);
    expectError(res, 409, "token_used");
    expect((await h.api("GET", `/v1/requests/${id}`)).json.approval_token).toBe(token);
    expect(await auditEvents(h, id)).not.toContain("token_reissued");
  });

  it("outcome reported → 409 conflict; pending → 409 conflict; rejected → 409 conflict", async () => {
    const h = await cleanups.harness();
    const { id } = await approved(h);
    await h.api("POST", `/v1/requests/${id}/outcome`, { status: "succeeded" });
    expect(expectError(await reissue(h, id), 409, "conflict").message).toMatch(/outcome/);

    const pendingId = await createPosted(h, REFUND);
    expect(expectError(await reissue(h, pendingId), 409, "conflict").message).toMatch(/pending/);
    await h.api("POST", `/v1/requests/${pendingId}/cancel`, {});
    expect(expectError(await reissue(h, pendingId), 409, "conflict").message).toMatch(/cancelled/);
  });

  it("a body other than none or {} → 400 naming the key, nothing re-issued; {} → 200", async () => {
    const h = await cleanups.harness();
    const { id, token } = await approved(h);
    const refused = await h.api("POST", `/v1/requests/${id}/token`, { ttl: "1h" });
    expect(expectError(refused, 400, "invalid_request").issues?.map((i) => i.path)).toEqual(["ttl"]);
    expect((await h.api("GET", `/v1/requests/${id}`)).json.approval_token).toBe(token);
    expect((await h.api("POST", `/v1/requests/${id}/token`, {})).status).toBe(200);
  });

  it("another agent's request, an unknown or malformed id → 404; no token → 401", async () => {
    const h = await cleanups.harness();
    const { id } = await approved(h);
    expectError(await reissue(h, id, TOKENS.deploy), 404, "not_found");
    expectError(await reissue(h, "req_nope"), 404, "not_found");
    expectError(await reissue(h, "not-an-id"), 404, "not_found");
    expectError(
      await h.api("POST", `/v1/requests/${id}/token`, undefined, { token: null }),
      401,
      "unauthorized",
    );
  });

  it("after a key rotation (from another connection, like the CLI) the re-issued token carries the new kid and verifies", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dbPath = join(t.dir, "countersign.db");
    const h = await cleanups.harness({ dbPath });
    const { id, token } = await approved(h);
    const cli = await otherConnection(dbPath);
    cleanups.push(cli.close);
    const rotated = await rotateSigningKey(cli.keys, { now: h.clock.now(), retainMs: 60 * MINUTE });
    const fresh = (await reissue(h, id)).json.approval_token as string;
    expect(decodeProtectedHeader(fresh).kid).toBe(rotated.kid);
    expect(decodeProtectedHeader(token).kid).not.toBe(rotated.kid);
    await verify(h, fresh);
  });

  it("ten concurrent re-issues → every answer 200 or 409, the stored token is one of the answers, each replaced jti is burnt", async () => {
    const h = await cleanups.harness();
    const { id, token } = await approved(h);
    const answers = await Promise.all(Array.from({ length: 10 }, () => reissue(h, id)));
    for (const a of answers) expect([200, 409]).toContain(a.status);
    const won = answers.filter((a) => a.status === 200).map((a) => a.json.approval_token as string);
    expect(won.length).toBeGreaterThan(0);
    const current = (await h.api("GET", `/v1/requests/${id}`)).json.approval_token as string;
    expect(won).toContain(current);
    // Every token but the current one is unusable.
    for (const t of [token, ...won.filter((t) => t !== current)]) {
      expect((await consume(h, claimsOf(t).jti)).status).toBe(409);
    }
    expect((await consume(h, claimsOf(current).jti)).status).toBe(200);
  });
});

describe("POST /v1/tokens/consume", () => {
  it("first call → 200 { jti, consumed_at }; every later one → 409 token_used naming when", async () => {
    const h = await cleanups.harness();
    const { token } = await approved(h);
    const jti = claimsOf(token).jti as string;
    const first = await consume(h, jti);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ jti, consumed_at: new Date(h.clock.now()).toISOString() });
    h.clock.advance(1000);
    const again = await consume(h, jti);
    expect(expectError(again, 409, "token_used").message).toContain(
      new Date(h.clock.now() - 1000).toISOString(),
    );
    // Another agent cannot use it either.
    expectError(await consume(h, jti, TOKENS.deploy), 409, "token_used");
  });

  it("twenty concurrent consumes of one jti → exactly one 200", async () => {
    const h = await cleanups.harness();
    const { token } = await approved(h);
    const jti = claimsOf(token).jti as string;
    const answers = await Promise.all(Array.from({ length: 20 }, () => consume(h, jti)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
  });

  it.each([
    [{}, "jti"],
    [{ jti: "" }, "jti"],
    [{ jti: 42 }, "jti"],
    [{ jti: "x".repeat(201) }, "jti"],
    [{ jti: "a", extra: 1 }, "extra"],
  ])("bad body %j → 400 invalid_request naming %s, nothing stored", async (body, path) => {
    const h = await cleanups.harness();
    const res = await h.api("POST", "/v1/tokens/consume", body);
    const error = expectError(res, 400, "invalid_request");
    expect(error.issues?.map((i) => i.path)).toContain(path);
    // Nothing was stored: the same jti still consumes.
    expect((await consume(h, "a")).status).toBe(200);
  });

  it("no token → 401; not JSON → 415", async () => {
    const h = await cleanups.harness();
    expectError(
      await h.api("POST", "/v1/tokens/consume", { jti: "a" }, { token: null }),
      401,
      "unauthorized",
    );
    expectError(
      await h.api("POST", "/v1/tokens/consume", undefined, {
        raw: "jti=a",
        headers: { "content-type": "text/plain" },
      }),
      415,
      "unsupported_media_type",
    );
  });

  it("re-issue racing a consume of the same token → exactly one wins (a gateway never runs it while a new token exists)", async () => {
    const h = await cleanups.harness();
    for (let i = 0; i < 5; i += 1) {
      const { id, token } = await approved(h);
      const [re, used] = await Promise.all([reissue(h, id), consume(h, claimsOf(token).jti)]);
      expect([re.status, used.status].sort()).toEqual([200, 409]);
      if (re.status === 409) expect(re.json.error.code).toBe("token_used");
    }
  });

  it.runIf(onPostgres)(
    "two replicas: a re-issue on one racing a consume on the other → exactly one wins",
    async () => {
      const slack = await cleanups.fakeSlack();
      const clock = new FakeClock();
      const dbPath = `reissue-replicas-${process.pid}`;
      const a = await cleanups.harness({ slack, clock, dbPath });
      const b = await cleanups.harness({ slack, clock, dbPath });
      for (let i = 0; i < 5; i += 1) {
        const { id, token } = await approved(a);
        const [re, used] = await Promise.all([reissue(a, id), consume(b, claimsOf(token).jti)]);
        expect([re.status, used.status].sort()).toEqual([200, 409]);
      }
    },
  );

  it.runIf(onPostgres)("two replicas on one database, the same jti at once → one 200, one 409", async () => {
    const slack = await cleanups.fakeSlack();
    const clock = new FakeClock();
    const dbPath = `consume-replicas-${process.pid}`;
    const a = await cleanups.harness({ slack, clock, dbPath });
    const b = await cleanups.harness({ slack, clock, dbPath });
    for (let i = 0; i < 5; i += 1) {
      const { token } = await approved(a);
      const jti = claimsOf(token).jti as string;
      const answers = await Promise.all([consume(a, jti), consume(b, jti), consume(b, jti), consume(a, jti)]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    }
  });
});
