// create → get → events → cancel with openapi-typescript's types and openapi-fetch.
import createClient from "openapi-fetch";
import type { paths } from "../.generated/openapi-typescript/schema.ts";
import { check, env, REQUEST, report } from "./shared.ts";

const { url, token } = env();
const client = createClient<paths>({ baseUrl: url, headers: { authorization: `Bearer ${token}` } });

const created = await client.POST("/v1/requests", {
  body: REQUEST,
  params: { header: { "Idempotency-Key": `openapi-fetch-${Date.now()}` } },
});
check(created.response.status === 201 && created.data, "create", created.response.status, created.error);
const id = created.data.id;
const got = await client.GET("/v1/requests/{id}", { params: { path: { id } } });
check(got.data, "get", got.response.status, got.error);
const events = await client.GET("/v1/requests/{id}/events", { params: { path: { id } } });
check(events.data, "events", events.response.status, events.error);
const cancelled = await client.POST("/v1/requests/{id}/cancel", {
  params: { path: { id } },
  body: { reason: "round trip done" },
});
check(cancelled.data, "cancel", cancelled.response.status, cancelled.error);
const missing = await client.GET("/v1/requests/{id}", { params: { path: { id: "req_missing" } } });
check(missing.error, "get missing", missing.response.status, missing.data);

report({
  id,
  created: created.data.status,
  got: got.data.status,
  events: events.data.map((e) => e.event),
  cancelled: cancelled.data.status,
  resolution: cancelled.data.resolution,
  missing: missing.error.error.code,
});
