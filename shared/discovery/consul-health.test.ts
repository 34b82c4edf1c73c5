// Unit tests for mapping Consul's /v1/health/service body to endpoints, and for the query URL.
// The watch itself runs against a real agent in test/consul-discovery.test.ts.
import { describe, expect, test } from "bun:test";
import { healthServiceUrl, parseHealthService } from "./consul-health.ts";

describe("parseHealthService", () => {
  test("maps entries, falls back to the node address, defaults tags/meta, sorts by id", () => {
    const body = [
      { Node: { Address: "10.0.0.2" }, Service: { ID: "echo-b", Address: "", Port: 9002, Tags: null, Meta: null } },
      { Node: { Address: "10.0.0.1" }, Service: { ID: "echo-a", Address: "10.1.1.1", Port: 9001, Tags: ["v1"], Meta: { zone: "z1", az: "a" } } },
    ];
    const eps = parseHealthService(body);
    expect(eps).toEqual([
      { id: "echo-a", address: "10.1.1.1", port: 9001, tags: ["v1"], meta: { az: "a", zone: "z1" } },
      { id: "echo-b", address: "10.0.0.2", port: 9002, tags: [], meta: {} },
    ]);
    expect(Object.keys(eps[0]!.meta)).toEqual(["az", "zone"]);
  });

  test("rejects malformed bodies", () => {
    expect(() => parseHealthService({})).toThrow("array");
    expect(() => parseHealthService([{ Service: { Port: 1 } }])).toThrow("Service.ID");
    expect(() => parseHealthService([{ Node: {}, Service: { ID: "x", Port: 1 } }])).toThrow("no address");
  });
});

test("healthServiceUrl asks for passing instances and blocks only with an index", () => {
  expect(healthServiceUrl("http://127.0.0.1:8500/", "echo api", 0, 300)).toBe("http://127.0.0.1:8500/v1/health/service/echo%20api?passing=1");
  expect(healthServiceUrl("http://127.0.0.1:8500", "echo", 42, 60)).toBe("http://127.0.0.1:8500/v1/health/service/echo?passing=1&index=42&wait=60s");
});
