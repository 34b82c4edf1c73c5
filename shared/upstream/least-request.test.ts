// Unit tests for the least-request (P2C) balancer: prefers less-loaded endpoints, exclusion, updates keep counts.
// Random is injected where the test needs a fixed pair of choices.
import { describe, expect, test } from "bun:test";
import { createLeastRequest } from "./least-request.ts";
import { endpoint } from "../../test/support/endpoints.ts";

describe("least request", () => {
  test("empty -> undefined; one endpoint -> that endpoint", () => {
    const b = createLeastRequest();
    expect(b.pick()).toBeUndefined();
    b.update([endpoint("a")]);
    expect(b.pick()?.id).toBe("a");
  });

  test("of the two choices, the one with fewer in-flight attempts wins", () => {
    const a = endpoint("a");
    const b = endpoint("b");
    const lb = createLeastRequest();
    lb.update([a, b]);
    lb.start(a);
    lb.start(a);
    // With two endpoints both are always the two choices, so the less loaded one must win every time.
    for (let i = 0; i < 50; i++) expect(lb.pick()?.id).toBe("b");
    lb.report(a, "success");
    lb.report(a, "success");
    lb.start(b);
    for (let i = 0; i < 50; i++) expect(lb.pick()?.id).toBe("a");
  });

  test("prefers less-loaded endpoints across a larger set", () => {
    const eps = ["a", "b", "c", "d", "e"].map((id) => endpoint(id));
    const lb = createLeastRequest();
    lb.update(eps);
    for (const e of eps.slice(0, 4)) for (let k = 0; k < 3; k++) lb.start(e); // only "e" is idle
    let e = 0;
    const n = 5000;
    for (let i = 0; i < n; i++) if (lb.pick()?.id === "e") e++;
    // "e" wins whenever it is one of the two choices: P = 1 - C(4,2)/C(5,2) = 0.4 (uniform would be 0.2).
    const sigma = Math.sqrt(n * 0.4 * 0.6);
    expect(Math.abs(e - n * 0.4)).toBeLessThanOrEqual(5 * sigma);
  });

  test("ties keep the first choice; choices are distinct", () => {
    const seq = [0.0, 0.0]; // i = 0, j = 0 -> bumped to 1
    let k = 0;
    const lb = createLeastRequest(() => seq[k++ % seq.length]!);
    lb.update([endpoint("a"), endpoint("b"), endpoint("c")]);
    expect(lb.pick()?.id).toBe("a");
    lb.start(endpoint("a"));
    expect(lb.pick()?.id).toBe("b");
  });

  test("skips excluded ids while another is available, else falls back", () => {
    const lb = createLeastRequest();
    lb.update([endpoint("a"), endpoint("b"), endpoint("c")]);
    for (let i = 0; i < 50; i++) expect(lb.pick(new Set(["a", "b"]))?.id).toBe("c");
    for (let i = 0; i < 50; i++) expect(["a", "c"]).toContain(lb.pick(new Set(["b"]))!.id);
    const all = new Set(["a", "b", "c"]);
    for (let i = 0; i < 20; i++) expect(["a", "b", "c"]).toContain(lb.pick(all)!.id);
  });

  test("update keeps in-flight counts of endpoints that stay and drops the rest", () => {
    const a = endpoint("a");
    const b = endpoint("b");
    const lb = createLeastRequest();
    lb.update([a, b]);
    lb.start(a);
    lb.start(a);
    lb.start(b);
    lb.update([a, endpoint("c")]);
    expect(lb.inFlight("a")).toBe(2);
    expect(lb.inFlight("b")).toBeUndefined();
    expect(lb.inFlight("c")).toBe(0);
    lb.report(b, "success"); // late report for a removed endpoint: ignored, no entry re-created
    lb.start(b);
    expect(lb.inFlight("b")).toBeUndefined();
    for (let i = 0; i < 20; i++) expect(lb.pick()?.id).toBe("c");
  });

  test("counts never go negative", () => {
    const a = endpoint("a");
    const lb = createLeastRequest();
    lb.update([a]);
    lb.report(a, "reset");
    expect(lb.inFlight("a")).toBe(0);
  });

  test("when a retry has tried everything, it avoids the endpoint that failed last", () => {
    const b = createLeastRequest();
    b.update([endpoint("a"), endpoint("b")]);
    expect(Array.from({ length: 20 }, () => b.pick(new Set(["a", "b"]))?.id)).toEqual(Array(20).fill("a"));
  });
});
