import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type * as client from "../../clients/typescript/src/index.ts";
import type { createRequestBodySchema, outcomeBodySchema } from "../../src/approvals/request-body.ts";
import type * as service from "../../src/domain/vocabulary.ts";
import type { ApprovalClaims as ServiceClaims } from "../../src/tokens/claims.ts";

/**
 * The client writes its types out (it must not import the service). These assertions are
 * checked by `npm run typecheck`: when a service schema changes, this file stops compiling.
 */

/** Fields the client knows that the service does not have yet: none since issue 13. */
type NotYetInService = never;

describe("client types match the service's schemas", () => {
  it("the create body is exactly what the service's schema accepts", () => {
    // On the wire: the schema's input (ttl is a duration string; the schema turns it into ms)…
    expectTypeOf<Omit<client.CreateRequestBody, "params">>().toEqualTypeOf<
      Omit<z.input<typeof createRequestBodySchema>, "params">
    >();
    // …except params, which the schema takes as unknown and checks into a record.
    expectTypeOf<client.CreateRequestBody["params"]>().toEqualTypeOf<
      z.output<typeof createRequestBodySchema>["params"]
    >();
  });

  it("the outcome body is exactly the service's", () => {
    expectTypeOf<client.OutcomeBody>().toEqualTypeOf<z.output<typeof outcomeBodySchema>>();
  });

  it("the resource has the service's keys, and every resource the service returns is a client resource", () => {
    expectTypeOf<Exclude<keyof client.RequestResource, NotYetInService>>().toEqualTypeOf<
      keyof service.RequestResource
    >();
    expectTypeOf<service.RequestResource>().toExtend<client.RequestResource>();
    expectTypeOf<service.Status>().toEqualTypeOf<client.RequestStatus>();
    expectTypeOf<service.Resolution>().toExtend<client.Resolution>();
    expectTypeOf<service.DecisionView>().toEqualTypeOf<client.Decision>();
    expectTypeOf<service.Outcome>().toEqualTypeOf<client.Outcome>();
    expectTypeOf<service.Risk>().toEqualTypeOf<client.Risk>();
    expectTypeOf<service.EvidenceItem>().toEqualTypeOf<client.EvidenceItem>();
  });
});

describe("client token claims match the service's", () => {
  it("ApprovalClaims", () => {
    expectTypeOf<client.ApprovalClaims>().toEqualTypeOf<ServiceClaims>();
  });
});
