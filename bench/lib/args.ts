// Command-line options of the bench runner: --quick, --rounds N, --only a,b, --access-log on|off.
// Pure so the runner's durations and scenario selection are unit-tested.

// The order here is the order of setup, of odd rounds (even ones run it backwards: roundOrder) and of the tables.
// Peers (nginx, consul-pair, the floors) sit next to the reference so the comparisons read top-down; adding a
// scenario = a name here + an entry in scenarios.ts SETUPS.
export const SCENARIOS = [
  "direct", "bun-bare", "nginx", "consul-pair", "bun-l7-pair", "bun-l4-pair",
  "sidecar-hop", "sidecar-hop-nolog", "sidecar-hop-dark", "sidecar-hop-otlp", "sidecar-hop-policies", "sidecar-hop-canary",
  "sidecar-hop-10-routes", "sidecar-hop-10k-routes",
  "sidecar-pair", "sidecar-pair-nolog", "sidecar-pair-full", "sidecar-pair-authz", "sidecar-pair-policies", "sidecar-pair-dark", "tcp-pair", "gateway",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * The scenarios of round `round` (from 1): as given in odd rounds, backwards in even ones. Why: the VM's slow
 * stretches recur (a full run read the three rows after `sidecar-hop-otlp` slow in each of its rounds, and the same
 * rows at their usual cost when re-run), and a target compares rows measured up to minutes apart within a round;
 * reversing puts each pair in the other time order every other round, so one recurring stretch can't hit the same
 * side of a comparison in every round.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...items] : [...items].reverse();
}

export const BENCH_USAGE = `usage: bun run bench/run.ts [--quick] [--rounds N] [--settle-rounds N] [--settle-all] [--no-restart] [--only SCENARIO,...] [--access-log on|off] [--out DIR]   (npm run bench -- ...)
  --quick           short measurements (3 s at c=64, 2 s at c=1, 1 s warmup), no settling pass
  --rounds N        interleaved rounds per scenario (default 3); each round starts every scenario's processes afresh
  --settle-rounds N after the rounds, each ratio target whose rounds are not all 10 % clear of its line on one
                    side is judged again on its two rows in N alternating paired rounds of 3 s, restarted every 2
                    (default 12; 0 with --quick; 0 = no settling pass)
  --settle-all      settle every ratio target in paired rounds, also those clear of their line (paired numbers for all)
  --no-restart      start each scenario once and keep its processes for every round (faster, but one start's offset
                    then lasts the whole run)
  --only a,b        only these scenarios: ${SCENARIOS.join(", ")}
  --access-log off  sidecars and the gateway without access logs (default on, as in production)
  --out DIR         write latest.json and latest.svg to DIR (default bench/results, the committed results)
  -h, --help | --version   print this help / the vm-mesh and runtime versions, exit 0
needs wrk: on PATH, or fetched from Debian into .cache/wrk (deploy/bench/provision-wrk.sh); see bench/README.md
example:
  npm run bench -- --quick --only direct,sidecar-hop
exit codes: 0 ok, 1 a scenario or a settling comparison failed, or no wrk, 2 usage error`;

/** Flags that take a value (so "--only --help" is not read as asking for help). */
export const BENCH_VALUE_FLAGS: ReadonlySet<string> = new Set(["rounds", "settle-rounds", "only", "access-log", "out"]);

export type BenchOptions = {
  readonly quick: boolean;
  readonly rounds: number;
  /** Paired rounds for each target the run leaves near or below its line (settle.ts); 0: no settling pass. */
  readonly settleRounds: number;
  /** Settle every ratio target, not only those the rounds leave near or below their line. */
  readonly settleAll: boolean;
  /** Where latest.json and latest.svg go; undefined: bench/results. */
  readonly out: string | undefined;
  readonly only: readonly ScenarioName[];
  /** Seconds per measurement; the warmup runs after every start of a scenario's processes. */
  readonly c64Seconds: number;
  readonly c1Seconds: number;
  readonly warmupSeconds: number;
  /**
   * Fresh processes for every scenario in every round. Why: each start of a process carries an offset of its own
   * for as long as it lives (bench/ab.ts's null A/Bs: the pair at 0.92–1.06 within one start), so a target judged on
   * one start per row can flip either way on it; the median over a start per round averages it out.
   */
  readonly restartEveryRound: boolean;
  /** Passed to sidecars and the gateway as --access-log; on by default, as in production. */
  readonly accessLog: boolean;
};

export function parseArgs(argv: readonly string[]): BenchOptions {
  const quick = argv.includes("--quick");
  let rounds = 3;
  let settleRounds = quick ? 0 : 12;
  let only: ScenarioName[] = [...SCENARIOS];
  let accessLog = true;
  let restartEveryRound = true;
  let settleAll = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--rounds") {
      rounds = Number(argv[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds needs a positive integer");
    } else if (a === "--settle-rounds") {
      settleRounds = Number(argv[++i]);
      if (!Number.isInteger(settleRounds) || settleRounds < 0) throw new Error("--settle-rounds needs a whole number, 0 or more");
    } else if (a === "--only") {
      const names = (argv[++i] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
      if (names.length === 0 || unknown.length > 0) {
        throw new Error(`--only: unknown scenario(s) ${unknown.join(",") || "(none)"}; known: ${SCENARIOS.join(",")}`);
      }
      // Keep the canonical order so tables always read the same way.
      only = SCENARIOS.filter((s) => names.includes(s));
    } else if (a === "--access-log") {
      const v = argv[++i];
      if (v !== "on" && v !== "off") throw new Error("--access-log needs on or off");
      accessLog = v === "on";
    } else if (a === "--settle-all") {
      settleAll = true;
    } else if (a === "--out") {
      out = argv[++i];
      if (out === undefined || out === "" || out.startsWith("--")) throw new Error("--out needs a directory");
    } else if (a === "--no-restart") {
      restartEveryRound = false;
    } else if (a !== "--quick" && a !== undefined && a.startsWith("--")) {
      throw new Error(`unknown option ${a}`);
    }
  }
  return quick
    ? { quick, rounds, settleRounds, settleAll, out, only, accessLog, restartEveryRound, c64Seconds: 3, c1Seconds: 2, warmupSeconds: 1 }
    : { quick, rounds, settleRounds, settleAll, out, only, accessLog, restartEveryRound, c64Seconds: 10, c1Seconds: 5, warmupSeconds: 2 };
}
