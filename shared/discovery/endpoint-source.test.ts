// Unit tests for mixed mode's rule (config instances vs Consul) and for reading Consul's unfiltered health answer:
// the passing set as ?passing would give it, and the registered count that says whether Consul knows a service.
import { describe, expect, test } from "bun:test";
import { chooseEndpoints } from "./endpoint-source.ts";
import { parseHealthServiceView } from "./consul-health.ts";
import type { Endpoint } from "../types.ts";

const ep = (id: string, port: number): Endpoint => ({ id, address: "127.0.0.1", port, tags: [], meta: {} });
const fileInstances = [ep("echo-file", 9001)];

describe("chooseEndpoints", () => {
  test("before Consul answers, and while Consul has no instance of the service, the config's instances serve", () => {
    expect(chooseEndpoints(undefined, fileInstances)).toEqual(fileInstances);
    expect(chooseEndpoints({ passing: [], registered: 0 }, fileInstances)).toEqual(fileInstances);
  });

  test("once Consul knows the service, its passing set serves, even when empty (all failing = 503, no stale fallback)", () => {
    expect(chooseEndpoints({ passing: [ep("echo-1", 9100)], registered: 2 }, fileInstances)).toEqual([ep("echo-1", 9100)]);
    expect(chooseEndpoints({ passing: [], registered: 1 }, fileInstances)).toEqual([]);
  });

  test("a service listed without instances follows Consul as before", () => {
    expect(chooseEndpoints({ passing: [], registered: 0 }, [])).toEqual([]);
    expect(chooseEndpoints({ passing: [ep("echo-1", 9100)], registered: 1 }, [])).toEqual([ep("echo-1", 9100)]);
  });
});

describe("parseHealthServiceView", () => {
  test("passing = every check passing (warning and critical are out, as with ?passing); registered counts all", () => {
    const entry = (id: string, ...status: string[]) => ({ Node: { Address: "127.0.0.1" }, Service: { ID: id, Port: 1 }, Checks: status.map((Status) => ({ Status })) });
    const view = parseHealthServiceView([entry("c", "passing", "critical"), entry("a", "passing", "passing"), entry("b", "warning"), entry("d")]);
    expect(view.registered).toBe(4);
    expect(view.passing.map((e) => e.id)).toEqual(["a", "d"]);
    expect(parseHealthServiceView([])).toEqual({ passing: [], registered: 0 });
  });
});
