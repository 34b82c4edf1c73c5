// Unit tests of inbound authorization: rule matching by caller, path, method and headers; deny wins; defaults; callers
// without an identity ("unauthenticated"); the filter answers 403 naming the rule and never calls the next handler.
import { describe, expect, test } from "bun:test";
import { authorizationFilter, compileAuthorizer, type AuthzInput } from "./authorization.ts";
import { parseMeshConfig } from "../config/parse.ts";
import { assembleKvDocuments } from "../config/kv-documents.ts";
import { makeContext } from "../../test/support/filter-context.ts";

const TD = "mesh.local";
const id = (svc: string) => `spiffe://${TD}/ns/default/svc/${svc}`;
const input = (peer: string | undefined, method = "GET", path = "/", headers: Record<string, string> = {}): AuthzInput => ({ peer, method, path, headers: new Headers(headers) });

const policy = {
  default: "deny" as const,
  rules: [
    { name: "no-admin", action: "deny" as const, from: ["*"], paths: [{ prefix: "/admin" }] },
    { name: "web-reads", action: "allow" as const, from: ["web"], methods: ["GET", "HEAD"] },
    { name: "gateway-all", action: "allow" as const, from: [id("gateway")] },
    { name: "tenant", action: "allow" as const, from: ["batch"], headers: [{ name: "x-tenant", exact: "acme" }], paths: [{ exact: "/jobs" }] },
  ],
};

describe("compileAuthorizer", () => {
  const a = compileAuthorizer("echo", policy, "allow", TD);
  test("allow rules match by service name or SPIFFE id, narrowed by method", () => {
    expect(a.evaluate(input(id("web")))).toMatchObject({ allowed: true, rule: "web-reads" });
    expect(a.evaluate(input(id("web"), "POST"))).toMatchObject({ allowed: false, rule: undefined });
    expect(a.evaluate(input(id("gateway"), "DELETE", "/x"))).toMatchObject({ allowed: true, rule: "gateway-all" });
  });
  test("deny wins over any allow", () => {
    const v = a.evaluate(input(id("gateway"), "GET", "/admin/users"));
    expect(v).toMatchObject({ allowed: false, rule: "no-admin" });
    expect(v.reason).toContain('"no-admin"');
  });
  test("headers and exact paths narrow a rule", () => {
    expect(a.evaluate(input(id("batch"), "POST", "/jobs", { "x-tenant": "acme" })).allowed).toBe(true);
    expect(a.evaluate(input(id("batch"), "POST", "/jobs", { "x-tenant": "other" })).allowed).toBe(false);
    expect(a.evaluate(input(id("batch"), "POST", "/jobs/1", { "x-tenant": "acme" })).allowed).toBe(false);
  });
  test("a service name never matches a caller from another trust domain", () => {
    expect(a.evaluate(input("spiffe://other.test/ns/default/svc/web")).allowed).toBe(false);
  });
  test("no identity (plaintext) matches no allow rule, not even \"*\"; a deny rule from \"*\" does cover it", () => {
    expect(a.evaluate(input(undefined)).allowed).toBe(false);
    expect(a.evaluate(input(undefined)).rule).toBeUndefined();
    expect(a.evaluate(input(undefined, "GET", "/admin"))).toMatchObject({ allowed: false, rule: "no-admin" });
  });
  test("defaults: the service's, else the mesh-wide one", async () => {
    expect(compileAuthorizer("echo", undefined, "allow", TD).evaluate(input(id("x"))).allowed).toBe(true);
    expect(compileAuthorizer("echo", undefined, "deny", TD).evaluate(input(id("x"))).reason).toContain("mesh-wide default deny");
    expect(compileAuthorizer("echo", { default: "allow" }, "deny", TD).evaluate(input(id("x"))).allowed).toBe(true);
  });
});

describe("callers without an identity", () => {
  const legacy = {
    default: "allow" as const,
    rules: [
      { name: "no-admin", action: "deny" as const, from: ["*"], paths: [{ prefix: "/admin" }] },
      { name: "legacy-reads", action: "allow" as const, from: ["unauthenticated"], methods: ["GET"] },
      { name: "web-or-legacy", action: "allow" as const, from: ["web", "unauthenticated"], paths: [{ exact: "/both" }] },
      { name: "no-plain-writes", action: "deny" as const, from: ["unauthenticated"], paths: [{ prefix: "/w" }] },
    ],
  };
  const a = compileAuthorizer("echo", legacy, "allow", TD);
  test("only a rule naming \"unauthenticated\" admits them", async () => {
    expect(a.evaluate(input(undefined, "GET", "/x"))).toMatchObject({ allowed: true, rule: "legacy-reads" });
    expect(a.evaluate(input(undefined, "POST", "/both"))).toMatchObject({ allowed: true, rule: "web-or-legacy" });
    expect(a.evaluate(input(id("web"), "POST", "/both"))).toMatchObject({ allowed: true, rule: "web-or-legacy" });
  });
  test("a default allow (the service's or the mesh's) never admits them; verified callers still get it", async () => {
    const v = a.evaluate(input(undefined, "POST", "/x"));
    expect(v).toMatchObject({ allowed: false, rule: undefined });
    expect(v.reason).toContain('allows "unauthenticated" callers');
    expect(a.evaluate(input(id("batch"), "POST", "/x"))).toMatchObject({ allowed: true, rule: undefined });
    expect(compileAuthorizer("echo", undefined, "allow", TD).evaluate(input(undefined)).allowed).toBe(false);
  });
  test("\"unauthenticated\" matches no verified caller; deny rules win over it, \"*\" in a deny rule included", async () => {
    expect(a.evaluate(input(id("web"), "GET", "/x"))).toMatchObject({ allowed: true, rule: undefined });
    expect(a.evaluate(input(undefined, "GET", "/w/1"))).toMatchObject({ allowed: false, rule: "no-plain-writes" });
    expect(a.evaluate(input(id("web"), "GET", "/w/1"))).toMatchObject({ allowed: true, rule: undefined });
    expect(a.evaluate(input(undefined, "GET", "/admin"))).toMatchObject({ allowed: false, rule: "no-admin" });
  });
  test("the filter answers 403 to a caller without an identity that no rule admits", async () => {
    const f = authorizationFilter(() => compileAuthorizer("echo", { default: "allow" }, "allow", TD))(async () => new Response("app"));
    const res = await f(new Request("http://echo/x"), makeContext());
    expect(res.status).toBe(403);
    expect(res.headers.get("x-mesh-authz-rule")).toBeNull();
  });
});

describe("authorizationFilter", () => {
  test("a denied request gets 403 with the JSON error naming the rule and never reaches the next handler", async () => {
    let reached = 0;
    const f = authorizationFilter(() => compileAuthorizer("echo", policy, "allow", TD))(async () => {
      reached++;
      return new Response("app");
    });
    const ctx = makeContext();
    ctx.peer = id("web");
    const denied = await f(new Request("http://echo/admin/x"), ctx);
    expect(denied.status).toBe(403);
    expect(denied.headers.get("x-mesh-authz-rule")).toBe("no-admin");
    expect(await denied.json()).toMatchObject({ error: "forbidden", status: 403, message: expect.stringContaining("no-admin") });
    expect(reached).toBe(0);
    expect(ctx.authz).toEqual({ allowed: false, rule: "no-admin" });
    expect((await f(new Request("http://echo/ok"), ctx)).status).toBe(200);
    expect(reached).toBe(1);
    // The verdict stays on the context for metrics: the deciding rule, or "default".
    expect(ctx.authz?.allowed).toBe(true);
  });
});

describe("validation", () => {
  const cfg = (authz: string) => `
services: { echo: {}, web: {} }
authorization:
  echo:
${authz}
`;
  test("unknown callers, bad SPIFFE ids, non-canonical paths and duplicate names are refused with their path", async () => {
    const r = await parseMeshConfig(cfg(`    rules:
      - { name: a, action: allow, from: [nobody] }
      - { name: a, action: allow, from: ["spiffe://Bad Id"] }
      - { name: b, action: deny, from: ["*"], paths: [{ prefix: "/a/../b" }] }
      - { name: c, action: maybe, from: ["*"] }`), "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
    expect(text).toContain("authorization.echo.rules[3].action");
    const r2 = await parseMeshConfig(cfg(`    rules:
      - { name: a, action: allow, from: [nobody] }
      - { name: a, action: allow, from: ["spiffe://Bad Id"] }
      - { name: b, action: deny, from: ["*"], paths: [{ prefix: "/a/../b" }] }`), "m.yaml");
    expect(r2.ok).toBe(false);
    if (r2.ok) return;
    const t2 = r2.issues.map((i) => `${i.path}: ${i.message}`);
    expect(t2).toContain('authorization.echo.rules[0].from[0]: unknown service "nobody" (declare it under services, name the gateway, or use its SPIFFE id)');
    expect(t2.some((l) => l.startsWith("authorization.echo.rules[1].name: duplicate rule name"))).toBe(true);
    expect(t2.some((l) => l.startsWith("authorization.echo.rules[1].from[0]:"))).toBe(true);
    expect(t2.some((l) => l.startsWith("authorization.echo.rules[2].paths[0]:"))).toBe(true);
  });
  test("\"unauthenticated\" is a caller keyword, refused only where a service of that name makes it ambiguous", async () => {
    const ok = await parseMeshConfig(cfg(`    rules:
      - { name: a, action: allow, from: [unauthenticated, web] }
      - { name: b, action: deny, from: ["*", unauthenticated] }`), "m.yaml");
    expect(ok.ok).toBe(true);
    const r = await parseMeshConfig(`
services: { echo: {}, unauthenticated: {} }
authorization:
  echo:
    rules:
      - { name: a, action: allow, from: [unauthenticated] }
      - { name: b, action: allow, from: ["spiffe://mesh.local/ns/default/svc/unauthenticated"] }
`, "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(["authorization.echo.rules[0].from[0]"]);
    expect(r.issues[0]!.message).toStartWith('ambiguous: "unauthenticated" means callers without an identity');
  });
  test("a misspelt keyword is named among the accepted forms", async () => {
    const r = await parseMeshConfig(cfg(`    rules:
      - { name: a, action: allow, from: ["un-authenticated!"] }`), "m.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]!.message).toBe('"un-authenticated!" is neither a service name, a SPIFFE id, "*" nor "unauthenticated"');
  });
  test("services.<name>.mtls: strict, permissive or disable; anything else is refused with its path", async () => {
    const ok = await parseMeshConfig("services: { echo: { mtls: permissive }, web: { mtls: strict }, db: { mtls: disable } }\n", "m.yaml");
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(ok.config.services?.echo?.mtls).toBe("permissive");
    for (const bad of ["PERMISSIVE", "{ mode: permissive }"]) {
      const r = await parseMeshConfig(`services: { echo: { mtls: ${bad} } }\n`, "m.yaml");
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([expect.stringMatching(/^services\.echo\.mtls: expected "strict" \| "permissive" \| "disable", got /)]);
    }
  });
  test("from Consul KV: a service document with mtls: permissive and a policy naming unauthenticated", async () => {
    const r = await assembleKvDocuments(
      [
        { key: "mesh/services/echo", value: "mtls: permissive" },
        { key: "mesh/services/bad", value: "mtls: lenient" },
        { key: "mesh/authorization/echo", value: "rules: [{ name: legacy, action: allow, from: [unauthenticated] }]" },
      ],
      "mesh/",
      new Map(),
    );
    expect(r.issues.map((i) => `${i.source}: ${i.path}`)).toEqual(["mesh/services/bad: mtls"]);
    const parsed = await parseMeshConfig(JSON.stringify(r.config), "kv");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.config.services?.echo?.mtls).toBe("permissive");
    expect(compileAuthorizer("echo", parsed.config.authorization?.echo, "allow", "mesh.local").evaluate(input(undefined)).rule).toBe("legacy");
  });
  test("a policy for an unknown service is refused", async () => {
    const r = await parseMeshConfig("services: { echo: {} }\nauthorization: { ghost: { default: deny } }\n", "m.yaml");
    expect(r.ok).toBe(false);
  });
});
