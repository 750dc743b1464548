import type { AppConfig } from "../../config/file.ts";
import type { Sample } from "../samples.ts";
import { type Answer, parseJson } from "./http.ts";

/** The agent side of the demo: sample requests and look-ups, through countersign's real /v1 API. */

export interface AgentCalls {
  sendSample(id: string): Promise<Answer>;
  /** GET /v1/requests/:id as `agent` (default: the first agent). */
  getRequest(id: string, agent: string | null, wait: string | null): Promise<Answer>;
}

export function createAgentCalls(opts: {
  config: AppConfig;
  appUrl: string;
  samples: readonly Sample[];
  /** Where the demo's callback receiver takes deliveries for an agent. */
  callbackUrl: (agentId: string) => string;
}): AgentCalls {
  const tokens = new Map(opts.config.agents.map((a) => [a.id, a.token]));
  const withCallbacks = new Set(
    opts.config.agents.filter((a) => a.callback_secret !== null).map((a) => a.id),
  );
  return {
    async sendSample(id) {
      const sample = opts.samples.find((s) => s.id === id);
      const token = sample ? tokens.get(sample.agent) : undefined;
      if (!sample || token === undefined) return { status: 404, body: { error: "no such sample" } };
      // An agent with a callback secret asks to be called back, at the demo's receiver.
      const body = withCallbacks.has(sample.agent)
        ? { ...sample.body, callback_url: opts.callbackUrl(sample.agent) }
        : sample.body;
      const res = await fetch(`${opts.appUrl}/v1/requests`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const json = parseJson(await res.text());
      const requestId = (json as { id?: unknown } | null)?.id;
      const curl =
        typeof requestId === "string"
          ? `curl -s '${opts.appUrl}/v1/requests/${requestId}?wait=30' -H 'Authorization: Bearer ${token}'`
          : null;
      return {
        status: 200,
        body: {
          sample: sample.id,
          agent: sample.agent,
          method: "POST",
          path: "/v1/requests",
          request: body,
          status: res.status,
          json,
          curl,
        },
      };
    },

    async getRequest(id, agent, wait) {
      const token = tokens.get(agent ?? "") ?? opts.config.agents[0]?.token ?? "";
      const query = wait !== null && /^[0-9]{1,2}$/.test(wait) ? `?wait=${wait}` : "";
      const res = await fetch(`${opts.appUrl}/v1/requests/${encodeURIComponent(id)}${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: parseJson(await res.text()) };
    },
  };
}
