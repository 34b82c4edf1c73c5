// Checks that the configs the bench writes are accepted by the real schema and semantic validation.
// If the config model changes, this fails before a bench run does.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { parse, stringify } from "yaml";
import { MeshConfig } from "../../shared/config/schema.ts";
import { validateMeshConfig } from "../../shared/config/validate.ts";
import { buildRouteTable } from "../../shared/routing/route-table.ts";
import type { RequestHead } from "../../shared/types.ts";
import { compileSnapshot } from "../../shared/build/compile.ts";
import { canaryHopConfig, hopConfig, manyRoutesHopConfig, manyRoutesPath, meshConfig } from "./mesh-config.ts";

function check(cfg: unknown): void {
  const parsed = v.safeParse(MeshConfig, parse(stringify(cfg)));
  expect(parsed.issues?.map((i) => i.message) ?? []).toEqual([]);
  if (parsed.success) expect(validateMeshConfig(parsed.output)).toEqual([]);
}

describe("bench mesh configs", () => {
  test("hop: upstream outside the mesh, plaintext, at the upstream port", () => {
    const cfg = hopConfig(41001);
    check(cfg);
    expect(cfg.services?.upstream?.mtls).toBe("disable");
    expect(cfg.services?.upstream?.instances?.[0]?.port).toBe(41001);
  });

  test("pair: upstream in the mesh (strict by default) at sidecar B's inbound port, no gateway", () => {
    const cfg = meshConfig(41002);
    check(cfg);
    expect(cfg.services?.upstream?.mtls).toBeUndefined();
    expect(cfg.services?.upstream?.instances?.[0]?.port).toBe(41002);
    expect(cfg.gateway).toBeUndefined();
  });

  test("canary: a 90/10 split over two subsets at the upstream port with retries, which the relay takes (a fast route)", () => {
    const cfg = canaryHopConfig(41003);
    check(cfg);
    const snap = compileSnapshot(cfg, { version: 1, source: "test", forwarder: () => async () => new Response(null) });
    const hit = snap.meshRoutes.match({ method: "GET", host: "upstream", path: "/", headers: new Headers(), query: new URLSearchParams() });
    expect(hit?.name).toBe("canary");
    expect(hit?.value.fast?.destinations.map((d) => d.cluster.name)).toEqual(["upstream/stable", "upstream/canary"]);
    expect(cfg.services?.upstream?.instances?.map((i) => i.port)).toEqual([41003, 41003]);
    expect(hit?.value.fast?.destinations.every((d) => d.retry?.policy.attempts === 3)).toBe(true);
  });

  test("gateway: one listener and a catch-all route to upstream", () => {
    const cfg = meshConfig(41002, 41000);
    check(cfg);
    expect(cfg.gateway?.listeners[0]?.port).toBe(41000);
    expect(cfg.gateway?.routes[0]?.action.destinations?.[0]?.service).toBe("upstream");
  });
});

test("the authz pair config is valid and its policy lets the client's GETs through after nine non-matching rules", async () => {
  const { authzPairConfig } = await import("./mesh-config.ts");
  const { compileAuthorizer } = await import("../../shared/filters/authorization.ts");
  const cfg = authzPairConfig(9000);
  expect(validateMeshConfig(v.parse(MeshConfig, cfg))).toEqual([]);
  const a = compileAuthorizer("upstream", cfg.authorization!.upstream, "deny", "mesh.local");
  expect(cfg.authorization!.upstream!.rules).toHaveLength(10);
  expect(a.evaluate({ peer: "spiffe://mesh.local/ns/default/svc/client", method: "GET", path: "/", headers: new Headers() })).toMatchObject({ allowed: true, rule: "client-reads" });
});

test("the inbound-policies pair config is valid; its fault targets only the header wrk never sends", async () => {
  const { inboundPoliciesPairConfig } = await import("./mesh-config.ts");
  const cfg = inboundPoliciesPairConfig(9000);
  expect(validateMeshConfig(v.parse(MeshConfig, cfg))).toEqual([]);
  expect(cfg.services!.upstream!.policy?.fault?.when?.headers?.[0]).toEqual({ name: "x-mesh-fault", exact: "on" });
  expect(cfg.services!.upstream!.policy?.rateLimit?.requestsPerSecond).toBeGreaterThanOrEqual(1_000_000);
});

describe("many-routes hop configs", () => {
  const head = (path: string): RequestHead => ({ method: "GET", host: "upstream", path, headers: new Headers(), query: new URLSearchParams() });
  const tableOf = (cfg: ReturnType<typeof manyRoutesHopConfig>) => buildRouteTable((cfg.routes ?? []).map((r) => ({ name: r.name, match: r.match, value: r })));

  test("10 routes: valid, distinct prefixes then a catch-all, and wrk's path lands on the middle route", () => {
    const cfg = manyRoutesHopConfig(41001, 10);
    check(cfg);
    expect(cfg.routes).toHaveLength(11);
    expect(cfg.routes?.[0]?.match?.path).toEqual({ prefix: "/svc-00000/" });
    expect(cfg.routes?.[10]?.name).toBe("catch-all");
    expect(manyRoutesPath(10)).toBe("/svc-00005/x");
    const t = tableOf(cfg);
    expect(t.match(head(manyRoutesPath(10)))?.name).toBe("svc-00005");
    expect(t.match(head("/"))?.name).toBe("catch-all");
  });

  test("10,000 routes: valid through YAML (no aliases), and wrk's path is /svc-05000/x on route svc-05000", () => {
    const cfg = manyRoutesHopConfig(41001, 10_000);
    check(cfg);
    expect(stringify(cfg)).not.toContain("*a1");
    expect(new Set(cfg.routes?.map((r) => r.name)).size).toBe(10_001);
    expect(cfg.routes?.[9_999]?.match?.path).toEqual({ prefix: "/svc-09999/" });
    expect(manyRoutesPath(10_000)).toBe("/svc-05000/x");
    expect(tableOf(cfg).match(head(manyRoutesPath(10_000)))?.name).toBe("svc-05000");
  });
});
