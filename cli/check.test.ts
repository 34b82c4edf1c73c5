// Unit tests for meshctl check's verdicts: clock skew thresholds (with the Date header's 1 s rounding), config
// problems with path and reason, member health/version/staleness, certificate expiry and the exit code.
import { describe, expect, test } from "bun:test";
import { certificateVerdict, certificateVerdicts, clockSkewMs, configVerdicts, exitCodeFor, leaderVerdict, memberVerdicts, skewVerdict, sourceKey } from "./check.ts";
import type { RegisteredMember, Report } from "./member-reports.ts";

const at = (iso: string) => Date.parse(iso);

describe("clock skew", () => {
  const date = "Fri, 27 Nov 2026 18:00:00 GMT";
  test("within the header's one-second window is no skew", () => {
    expect(clockSkewMs(date, at("2026-11-27T18:00:00.100Z"), at("2026-11-27T18:00:00.900Z"))).toBe(0);
  });
  test("ahead and behind, measured from the window's nearest edge", () => {
    expect(clockSkewMs(date, at("2026-11-27T18:00:03.000Z"), at("2026-11-27T18:00:03.050Z"))).toBe(2000);
    expect(clockSkewMs(date, at("2026-11-27T17:59:58.000Z"), at("2026-11-27T17:59:58.010Z"))).toBe(-1990);
    expect(clockSkewMs("not a date", 0, 0)).toBeUndefined();
  });
  test("thresholds: WARN over 1 s, FAIL over 30 s", () => {
    expect(skewVerdict(0).level).toBe("PASS");
    expect(skewVerdict(1000).level).toBe("PASS");
    expect(skewVerdict(1001).level).toBe("WARN");
    expect(skewVerdict(-30_000).level).toBe("WARN");
    expect(skewVerdict(-30_001).level).toBe("FAIL");
    expect(skewVerdict(undefined).level).toBe("WARN");
  });
});

test("leader: empty is FAIL", () => {
  expect(leaderVerdict("http://c:8500", "").level).toBe("FAIL");
  expect(leaderVerdict("http://c:8500", "127.0.0.1:8300").level).toBe("PASS");
});

describe("config", () => {
  test("empty prefix WARNs, valid PASSes, a broken document FAILs with key, path and reason", async () => {
    expect((await configVerdicts([], "mesh/"))[0]!.level).toBe("WARN");
    const good = [{ key: "mesh/services/echo", value: "{}\n", modifyIndex: 1 }];
    expect(await configVerdicts(good, "mesh/")).toEqual([{ level: "PASS", check: "config", detail: "1 documents under mesh/ parse and validate" }]);
    const bad = [...good, { key: "mesh/routes/broken", value: "match: { path: { regex: '(' } }\naction: { directResponse: { status: 200 } }\n", modifyIndex: 2 }];
    const v = await configVerdicts(bad, "mesh/");
    expect(v.every((x) => x.level === "FAIL")).toBe(true);
    expect(v[0]!.detail).toContain("mesh/routes/broken: match.path.regex: invalid regular expression");
  });
});

describe("members", () => {
  const now = at("2026-11-27T18:00:00Z");
  const member = (id: string, health: RegisteredMember["health"] = "passing", checkOutput = ""): RegisteredMember => ({ id, service: "echo", kind: "sidecar", health, checkOutput });
  const report = (id: string, config: number, appliedAt = "2026-11-27T17:59:00Z", extra: object = {}): Report => ({ id, raw: "", modifyIndex: 1, status: { config, source: `consul-kv mesh/ @${config}`, appliedAt, rejected: 0, ...extra } });
  const run = (members: RegisteredMember[], reports: Report[]) => memberVerdicts({ members, reports, now, staleMs: 10 * 60_000 });

  test("same source groups by prefix, not index", () => expect(sourceKey("consul-kv mesh/ @42 (held)")).toBe("consul-kv mesh/"));
  test("healthy members on the latest version PASS", () => {
    expect(run([member("a"), member("b")], [report("a", 5), report("b", 5)]).map((v) => v.level)).toEqual(["PASS", "PASS"]);
  });
  test("behind the newest peer: WARN while it is fresh, FAIL once older than --stale", () => {
    expect(run([member("a"), member("b")], [report("a", 4), report("b", 5)]).map((v) => v.level)).toEqual(["WARN", "PASS"]);
    expect(run([member("a"), member("b")], [report("a", 4), report("b", 5, "2026-11-27T17:40:00Z")])[0]).toMatchObject({ level: "FAIL", check: "member a" });
  });
  test("critical FAILs, no report WARNs, rejections and holds WARN, a leftover report is stale", () => {
    expect(run([member("a", "critical", "not ready")], [report("a", 5)])[0]).toMatchObject({ level: "FAIL", detail: expect.stringContaining("critical") });
    expect(run([member("a")], [])[0]).toMatchObject({ level: "WARN", detail: "published no status under mesh-status/a" });
    expect(run([member("a", "passing", "ready config=5 held=lost-prefix")], [report("a", 5, undefined, { rejected: 1 })]).map((v) => v.detail)).toEqual([
      expect.stringContaining("rejected 1"), "holds its config: lost-prefix",
    ]);
    expect(run([], [report("gone", 5)]).map((v) => v.level)).toEqual(["WARN", "WARN"]);
  });
  test("a member whose last status report is over 15 minutes old WARNs; a recent one passes", () => {
    expect(run([member("a")], [report("a", 5, undefined, { reportedAt: "2026-11-27T17:40:00Z" })])[0]).toMatchObject({ level: "WARN", detail: expect.stringContaining("last status report 20 min ago") });
    expect(run([member("a")], [report("a", 5, undefined, { reportedAt: "2026-11-27T17:58:00Z" })])[0]).toMatchObject({ level: "PASS" });
  });
});

describe("certificates", () => {
  const now = at("2026-11-27T18:00:00Z");
  const h = 3_600_000;
  test("not published is one INFO line", () => expect(certificateVerdicts([], now)).toEqual([{ level: "INFO", check: "certificates", detail: expect.stringContaining("not published") }]));
  test("expired FAIL, < 2 h or < 25 % of lifetime WARN, else PASS", () => {
    expect(certificateVerdict("a", now - 24 * h, now - 1, now).level).toBe("FAIL");
    expect(certificateVerdict("a", now - 1 * h, now + 1.5 * h, now).level).toBe("WARN");
    expect(certificateVerdict("a", now - 20 * h, now + 4 * h, now).level).toBe("WARN");
    expect(certificateVerdict("a", now - 12 * h, now + 12 * h, now).level).toBe("PASS");
  });
});

test("exit code: warnings pass, any FAIL is 1, Consul unreachable is 3", () => {
  expect(exitCodeFor([{ level: "WARN", check: "x", detail: "" }, { level: "INFO", check: "y", detail: "" }], false)).toBe(0);
  expect(exitCodeFor([{ level: "FAIL", check: "x", detail: "" }], false)).toBe(1);
  expect(exitCodeFor([{ level: "FAIL", check: "x", detail: "" }], true)).toBe(3);
});
