// Unit tests for assembling the mesh config from KV documents: per-document validation, last good versions,
// deletions, unknown keys, the size limit, the confirm marker, and checks that need other documents.
import { expect, test } from "bun:test";
import { assembleKvDocuments, DEFAULT_MAX_DOCUMENT_BYTES, parseMaxDocumentBytes } from "./kv-documents.ts";
import { parseMeshConfig } from "./parse.ts";

const good = [
  { key: "mesh/settings", value: "trustDomain: example.org" },
  { key: "mesh/services/echo", value: "subsets: { v1: { tags: [v1] } }" },
  { key: "mesh/routes/b-route", value: "match: { host: [echo] }\naction: { destinations: [{ service: echo, subset: v1 }] }" },
  { key: "mesh/routes/a-route", value: '{"match": {"path": {"prefix": "/a"}}, "action": {"directResponse": {"status": 204}}}' },
  { key: "mesh/", value: "" },
];

test("valid documents assemble into one config that passes the full parser; routes ordered by key", async () => {
  const r = await assembleKvDocuments(good, "mesh/", new Map());
  expect(r.issues).toEqual([]);
  const parsed = await parseMeshConfig(JSON.stringify(r.config), "kv");
  expect(parsed.ok).toBe(true);
  if (!parsed.ok) return;
  expect(parsed.config.trustDomain).toBe("example.org");
  expect(parsed.config.routes?.map((x) => x.name)).toEqual(["a-route", "b-route"]);
});

test("a bad version of a document keeps its last good version; a new bad document is left out", async () => {
  const lastGood = new Map<string, unknown>();
  await assembleKvDocuments(good, "mesh/", lastGood);
  const next = good.map((e) => (e.key === "mesh/routes/b-route" ? { ...e, value: "action: { destinations: [{ service: nosuch }] }" } : e));
  next.push({ key: "mesh/routes/c-route", value: "match: { path: { regex: '(' } }\naction: { directResponse: { status: 200 } }" });
  const r = await assembleKvDocuments(next, "mesh/", lastGood);
  expect(r.issues.map((i) => `${i.source}: ${i.path}`)).toEqual(["mesh/routes/b-route: action.destinations[0].service", "mesh/routes/c-route: match.path.regex"]);
  expect((r.config.routes as Array<{ name: string }>).map((x) => x.name)).toEqual(["a-route", "b-route"]);
});

test("deleted documents disappear; unknown keys and YAML errors are reported with their key", async () => {
  const lastGood = new Map<string, unknown>();
  await assembleKvDocuments(good, "mesh/", lastGood);
  const r = await assembleKvDocuments(
    [good[0]!, good[1]!, { key: "mesh/whatever", value: "x: 1" }, { key: "mesh/services/web", value: "instances: [" }],
    "mesh/",
    lastGood,
  );
  expect(r.config.routes).toEqual([]);
  expect(r.issues.map((i) => i.source)).toEqual(["mesh/services/web", "mesh/whatever"]);
  expect(r.issues[0]!.message).toContain("YAML");
});

test("a document over the size limit is rejected with key, size and limit before parsing; its last good version stays", async () => {
  const lastGood = new Map<string, unknown>();
  await assembleKvDocuments(good, "mesh/", lastGood);
  const huge = `# ${"x".repeat(600)}\nmatch: { host: [echo] }\naction: { destinations: [{ service: echo }] }`;
  const next = good.map((e) => (e.key === "mesh/routes/b-route" ? { ...e, value: huge } : e));
  const r = await assembleKvDocuments(next, "mesh/", lastGood, { maxDocumentBytes: 500 });
  expect(r.issues).toEqual([{ source: "mesh/routes/b-route", path: "(root)", message: expect.stringContaining(`${huge.length} bytes, over the 500-byte limit`) }]);
  expect((r.config.routes as Array<{ name: string }>).map((x) => x.name)).toEqual(["a-route", "b-route"]);
  // The stored size counts when the provider knows it (multi-byte text is longer in bytes than in characters).
  const sized = await assembleKvDocuments([{ key: "mesh/settings", value: "namespace: é", bytes: 524_289 }], "mesh/", new Map());
  expect(sized.issues[0]?.message).toContain("524289 bytes, over the 524288-byte limit");
});

test("the confirm marker is neither config nor an unknown document", async () => {
  const r = await assembleKvDocuments([{ key: "mesh/confirmed", value: "at: now" }], "mesh/", new Map());
  expect(r.issues).toEqual([]);
  expect(r.config).toEqual({ services: {}, routes: [] });
});

test("parseMaxDocumentBytes: default, a number, and refusal of anything else", () => {
  expect(parseMaxDocumentBytes(undefined)).toBe(DEFAULT_MAX_DOCUMENT_BYTES);
  expect(parseMaxDocumentBytes("2000000")).toBe(2_000_000);
  for (const bad of ["0", "-1", "1.5", "512k"]) expect(() => parseMaxDocumentBytes(bad)).toThrow("MESH_KV_MAX_DOCUMENT_BYTES");
});
