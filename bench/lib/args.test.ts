// Tests the bench's command-line parsing: modes, rounds and scenario selection.
// Durations matter because --quick must stay under two minutes.
import { describe, expect, test } from "bun:test";
import { parseArgs, roundOrder, SCENARIOS } from "./args.ts";

describe("parseArgs", () => {
  test("defaults to a full run of every scenario, 3 rounds", () => {
    const o = parseArgs([]);
    expect(o).toMatchObject({ quick: false, rounds: 3, c64Seconds: 10, c1Seconds: 5, restartEveryRound: true });
    expect(o.only).toEqual([...SCENARIOS]);
  });

  test("--quick keeps 3 rounds but shortens every run so the whole bench's load fits in about 7 minutes", () => {
    const o = parseArgs(["--quick"]);
    expect(o.rounds).toBe(3);
    // A warmup after every start, and every round starts afresh.
    const perScenario = o.rounds * (o.c64Seconds + o.c1Seconds + o.warmupSeconds);
    expect(perScenario).toBeLessThanOrEqual(18);
    expect(perScenario * SCENARIOS.length).toBeLessThanOrEqual(7 * 60); // 22 scenarios: 396 s of load
  });

  test("--no-restart keeps each scenario's processes for every round", () => {
    expect(parseArgs(["--quick", "--no-restart"]).restartEveryRound).toBe(false);
    expect(parseArgs(["--quick"]).restartEveryRound).toBe(true);
  });

  test("the peers can be picked like any scenario and sit next to the reference", () => {
    expect(parseArgs(["--only", "sidecar-pair,consul-pair,nginx,bun-bare"]).only).toEqual(["bun-bare", "nginx", "consul-pair", "sidecar-pair"]);
    expect(parseArgs(["--only", "sidecar-hop-10k-routes,sidecar-hop-10-routes"]).only).toEqual(["sidecar-hop-10-routes", "sidecar-hop-10k-routes"]);
  });

  test("--only keeps canonical order and --rounds is read", () => {
    const o = parseArgs(["--only", "gateway, direct", "--rounds", "5"]);
    expect(o.only).toEqual(["direct", "gateway"]);
    expect(o.rounds).toBe(5);
  });

  test("--settle-rounds: 12 paired rounds by default, none with --quick unless asked, 0 turns the pass off", () => {
    expect(parseArgs([]).settleRounds).toBe(12);
    expect(parseArgs(["--quick"]).settleRounds).toBe(0);
    expect(parseArgs(["--quick", "--settle-rounds", "4"]).settleRounds).toBe(4);
    expect(parseArgs(["--settle-rounds", "0"]).settleRounds).toBe(0);
    expect(parseArgs([]).settleAll).toBe(false);
    expect(parseArgs(["--quick", "--settle-rounds", "2", "--settle-all"]).settleAll).toBe(true);
    expect(() => parseArgs(["--settle-rounds", "-1"])).toThrow(/0 or more/);
    expect(() => parseArgs(["--settle-rounds", "x"])).toThrow(/0 or more/);
  });

  test("--out: results go to the committed folder unless a directory is given", () => {
    expect(parseArgs([]).out).toBeUndefined();
    expect(parseArgs(["--quick", "--out", "/tmp/x"]).out).toBe("/tmp/x");
    expect(() => parseArgs(["--out"])).toThrow(/--out needs a directory/);
    expect(() => parseArgs(["--out", "--quick"])).toThrow(/--out needs a directory/);
  });

  test("--access-log off is read; on is the default", () => {
    expect(parseArgs([]).accessLog).toBe(true);
    expect(parseArgs(["--quick", "--access-log", "off"]).accessLog).toBe(false);
    expect(() => parseArgs(["--access-log", "no"])).toThrow(/on or off/);
  });

  test("rejects unknown scenarios, bad rounds and unknown flags", () => {
    expect(() => parseArgs(["--only", "direct,envoy"])).toThrow(/envoy/);
    expect(() => parseArgs(["--only"])).toThrow(/--only/);
    expect(() => parseArgs(["--rounds", "0"])).toThrow(/positive/);
    expect(() => parseArgs(["--fast"])).toThrow(/--fast/);
  });
});

describe("roundOrder", () => {
  test("odd rounds run the scenarios as listed, even rounds backwards, and the list itself is left alone", () => {
    const names = ["direct", "bun-bare", "sidecar-hop"] as const;
    expect(roundOrder(names, 1)).toEqual(["direct", "bun-bare", "sidecar-hop"]);
    expect(roundOrder(names, 2)).toEqual(["sidecar-hop", "bun-bare", "direct"]);
    expect(roundOrder(names, 3)).toEqual(["direct", "bun-bare", "sidecar-hop"]);
    expect(names).toEqual(["direct", "bun-bare", "sidecar-hop"]);
  });
});
