// Unit tests for mapping Consul's health/service body to endpoints.
// The watch itself runs against a real agent in test/consul-discovery.test.ts.
import { describe, expect, test } from "bun:test";
import { memberHealth, parseHealthService } from "./consul-health.ts";

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

test("memberHealth: the worst check wins (node checks too); only the member's own outputs are kept", () => {
  const node = { Status: "passing", Output: "Agent alive and reachable", ServiceID: "" };
  const own = { Status: "passing", Output: "ready config=3 \n", ServiceID: "echo-1" };
  expect(memberHealth([node, own], "echo-1")).toEqual({ health: "passing", output: "ready config=3" });
  expect(memberHealth([{ ...node, Status: "critical" }, own], "echo-1").health).toBe("critical");
  expect(memberHealth([node, { ...own, Status: "warning" }], "echo-1").health).toBe("warning");
  expect(memberHealth([node, own, { Status: "passing", Output: "", ServiceID: "echo-1" }], "echo-1").output).toBe("ready config=3");
});
