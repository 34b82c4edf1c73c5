// Unit tests of `meshctl authz check`'s evaluation: the same compiled policy as the sidecars, callers given by
// service name or SPIFFE id, and paths the inbound would refuse before authorization reported as such.
import { expect, test } from "bun:test";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { authzCheck, formatCheck } from "./authz-check.ts";

const parsed = parseMeshConfig(`
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

test("bad input is an error, not a verdict", () => {
  expect(() => authzCheck(config, { from: "web", to: "ghost", method: "GET", target: "/", headers: [] })).toThrow(/unknown service/);
  expect(() => authzCheck(config, { from: "web", to: "echo", method: "GET", target: "/a/../b", headers: [] })).toThrow(/refuses this path/);
  expect(() => authzCheck(config, { from: "web", to: "echo", method: "GET", target: "/", headers: ["nocolon"] })).toThrow(/name: value/);
});
