// create → get → events → cancel with the SDK @hey-api/openapi-ts generates (fetch client).
import { client } from "../.generated/hey-api/client.gen.ts";
import { cancelRequest, createRequest, getRequest, listRequestEvents } from "../.generated/hey-api/index.ts";
import { check, env, REQUEST, report } from "./shared.ts";

const { url, token } = env();
client.setConfig({ baseUrl: url, headers: { authorization: `Bearer ${token}` } });

const created = await createRequest({
  body: REQUEST,
  headers: { "Idempotency-Key": `hey-api-${Date.now()}` },
});
check(
  created.response?.status === 201 && created.data,
  "create",
  created.response?.status ?? 0,
  created.error,
);
const id = created.data.id;
const got = await getRequest({ path: { id } });
check(got.data, "get", got.response?.status ?? 0, got.error);
const events = await listRequestEvents({ path: { id } });
check(events.data, "events", events.response?.status ?? 0, events.error);
const cancelled = await cancelRequest({ path: { id }, body: { reason: "round trip done" } });
check(cancelled.data, "cancel", cancelled.response?.status ?? 0, cancelled.error);
const missing = await getRequest({ path: { id: "req_missing" } });
check(missing.error, "get missing", missing.response?.status ?? 0, missing.data);

report({
  id,
  created: created.data.status,
  got: got.data.status,
  events: events.data.map((e) => e.event),
  cancelled: cancelled.data.status,
  resolution: cancelled.data.resolution,
  missing: missing.error.error.code,
});
