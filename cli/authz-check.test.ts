// Unit tests of `meshctl authz check`'s evaluation: the same compiled policy as the sidecars, callers given by service
// name, SPIFFE id or none (plaintext), and requests the inbound would refuse before authorization reported as such.
import { expect, test } from "bun:test";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { authzCheck, formatCheck } from "./authz-check.ts";

const parsed = await parseMeshConfig(`
services: { echo: {}, web: {} }
authorization:
  echo:
    default: deny
    rules:
      - { name: web-reads, action: allow, from: [web], methods: [GET] }
      - { name: no-admin, action: deny, from: ["*"], paths: [{ prefix: /admin }] }
`, "t.yaml");
if (!parsed.ok) throw new Error("fixture invalid");
const config = parsed.config;

test("prints the verdict and the rule that decided it", () => {
  const r = authzCheck(config, { from: "web", to: "echo", method: "get", target: "/items?x=1", headers: [] });
  expect(r.verdict).toMatchObject({ allowed: true, rule: "web-reads" });
  expect(formatCheck(r, "get")).toStartWith("ALLOW  spiffe://mesh.local/ns/default/svc/web → echo GET /items");
  const d = authzCheck(config, { from: "spiffe://mesh.local/ns/default/svc/web", to: "echo", method: "GET", target: "/admin/x", headers: [] });
  expect(d.verdict).toMatchObject({ allowed: false, rule: "no-admin" });
  expect(authzCheck(config, { from: undefined, to: "echo", method: "GET", target: "/", headers: [] }).verdict.allowed).toBe(false);
});

test("a caller without an identity (no --from, or --from unauthenticated): only an \"unauthenticated\" rule admits it, on a permissive inbound", async () => {
  const p = await parseMeshConfig(`
services: { echo: { mtls: permissive }, api: {}, web: {} }
authorization:
  echo:
    default: allow
    rules:
      - { name: legacy-reads, action: allow, from: [unauthenticated], methods: [GET] }
      - { name: no-admin, action: deny, from: ["*"], paths: [{ prefix: /admin }] }
  api:
    rules:
      - { name: legacy, action: allow, from: [unauthenticated] }
`, "t.yaml");
  if (!p.ok) throw new Error("fixture invalid");
  const read = authzCheck(p.config, { from: undefined, to: "echo", method: "GET", target: "/x", headers: [] });
  expect(read.verdict).toMatchObject({ allowed: true, rule: "legacy-reads" });
  expect(formatCheck(read, "GET")).toStartWith("ALLOW  (no identity: a plaintext caller) → echo GET /x");
  expect(authzCheck(p.config, { from: "unauthenticated", to: "echo", method: "GET", target: "/x", headers: [] }).verdict.rule).toBe("legacy-reads");
  const write = authzCheck(p.config, { from: "unauthenticated", to: "echo", method: "POST", target: "/x", headers: [] });
  expect(write.verdict.allowed).toBe(false);
  expect(write.verdict.reason).toContain("a default never admits a caller without an identity");
  expect(authzCheck(p.config, { from: undefined, to: "echo", method: "GET", target: "/admin", headers: [] }).verdict).toMatchObject({ allowed: false, rule: "no-admin" });
  expect(authzCheck(p.config, { from: "web", to: "echo", method: "POST", target: "/x", headers: [] }).verdict.allowed).toBe(true);
  // api is strict: its inbound never takes a plaintext connection, whatever its policy says.
  const strict = authzCheck(p.config, { from: undefined, to: "api", method: "GET", target: "/", headers: [] });
  expect(strict.verdict.allowed).toBe(false);
  expect(strict.verdict.reason).toStartWith("refused before authorization: api is mtls: strict");
  expect(strict.verdict.reason).toContain('allowed by rule "legacy"');
});

test("bad input is an error, not a verdict", () => {
  expect(() => authzCheck(config, { from: "web", to: "ghost", method: "GET", target: "/", headers: [] })).toThrow(/unknown service/);
  expect(() => authzCheck(config, { from: "web", to: "echo", method: "GET", target: "/a/../b", headers: [] })).toThrow(/refuses this path/);
  expect(() => authzCheck(config, { from: "web", to: "echo", method: "GET", target: "/", headers: ["nocolon"] })).toThrow(/name: value/);
});
