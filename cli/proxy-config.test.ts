// Unit tests for meshctl proxy-config: what a member published, its rejected documents with path and reason
// (from its KV prefix), and "published nothing" listing the known ids.
import { expect, test } from "bun:test";
import { formatProxyConfig, kvPrefixOf, NothingPublished, proxyConfigOf } from "./proxy-config.ts";
import type { Report } from "./member-reports.ts";

const report: Report = { id: "echo-1", raw: "", modifyIndex: 3, status: { config: 4, source: "consul-kv mesh/ @17", appliedAt: "2026-11-27T18:00:00.000Z", rejected: 1 } };
const members = [{ id: "echo-1", service: "echo", kind: "sidecar", health: "passing" as const, checkOutput: "HTTP GET ...: 200 OK Output: ready config=4 source=consul-kv_mesh/_@17 rejected=1" }];

test("the prefix of a KV source; a file source has none", () => {
  expect(kvPrefixOf("consul-kv prod/ @9")).toBe("prod/");
  expect(kvPrefixOf("file /etc/mesh.yaml")).toBeUndefined();
});

test("version, source, rejected documents with path and reason; routes/clusters not published", async () => {
  const kv = [{ key: "mesh/routes/broken", value: "match: { path: { regex: '(' } }\naction: { directResponse: { status: 200 } }\n", modifyIndex: 20 }];
  const p = await proxyConfigOf("echo-1", [report], members, kv);
  expect(p).toMatchObject({ id: "echo-1", version: 4, source: "consul-kv mesh/ @17", rejected: 1, health: "passing" });
  expect(p.rejectedDocuments[0]).toMatchObject({ source: "mesh/routes/broken", path: "match.path.regex" });
  const text = formatProxyConfig(p);
  expect(text).toContain("version:   4");
  expect(text).toContain("mesh/routes/broken: match.path.regex: invalid regular expression");
  expect(text).toContain("routes: not published by the member");
});

test("a member that published nothing: an error naming the known ids", async () => {
  await expect(proxyConfigOf("ghost", [report], members, undefined)).rejects.toThrow(NothingPublished);
  await expect(proxyConfigOf("ghost", [report], members, undefined)).rejects.toThrow("known members: echo-1");
});
