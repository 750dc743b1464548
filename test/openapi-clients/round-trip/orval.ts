// create → get → events → cancel with orval's fetch client (base URL set at generation: orval.config.mjs).
import { cancelRequest, createRequest, getRequest, listRequestEvents } from "../.generated/orval/client.ts";
import { check, env, REQUEST, report } from "./shared.ts";

const { token } = env();
const auth = { headers: { authorization: `Bearer ${token}`, "Idempotency-Key": `orval-${Date.now()}` } };

const created = await createRequest(REQUEST, auth);
check(created.status === 201 && created.data, "create", created.status, created.data);
if (created.status !== 201) throw new Error("unreachable");
const id = created.data.id;
const got = await getRequest(id, {}, auth);
check(got.status === 200, "get", got.status, got.data);
if (got.status !== 200) throw new Error("unreachable");
const events = await listRequestEvents(id, auth);
check(events.status === 200, "events", events.status, events.data);
if (events.status !== 200) throw new Error("unreachable");
const cancelled = await cancelRequest(id, { reason: "round trip done" }, auth);
check(cancelled.status === 200, "cancel", cancelled.status, cancelled.data);
if (cancelled.status !== 200) throw new Error("unreachable");
const missing = await getRequest("req_missing", {}, auth);
check(missing.status === 404, "get missing", missing.status, missing.data);
if (missing.status !== 404) throw new Error("unreachable");

report({
  id,
  created: created.data.status,
  got: got.data.status,
  events: events.data.map((e) => e.event),
  cancelled: cancelled.data.status,
  resolution: cancelled.data.resolution,
  missing: missing.data.error.code,
});
