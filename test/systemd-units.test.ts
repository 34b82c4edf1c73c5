// Checks the units in deploy/systemd as shipped: `systemd-analyze verify` on copies whose bun and checkout paths
// point at a temporary stub (verify insists that ExecStart's binary exists), when the tool is there; and always, with
// a small parser, the things issue 12 asks of every unit: the mode is chosen in the env file only, ordering after the
// network (and, softly, Consul and the CA), state/runtime directories, the user, hardening, restart and stop policy.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
const UNIT_DIR = join(REPO, "deploy/systemd");
const CHECKOUT = "/opt/vm-mesh";
const BUN = `${CHECKOUT}/node_modules/.bin/bun`;

type Unit = Map<string, Map<string, string[]>>; // section -> key -> every value, in order

/** systemd's unit syntax, as much as these files use: [Section], Key=Value (repeatable), # and ; comments, \ continuations. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head !== null) {
      section = unit.get(head[1]!) ?? new Map();
      unit.set(head[1]!, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (section === undefined || eq <= 0) throw new Error(`line ${i + 1}: not "Key=Value" inside a section: ${raw}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

const unitFiles = readdirSync(UNIT_DIR).filter((f) => f.endsWith(".service")).sort();
const units = new Map(unitFiles.map((f) => [f, parseUnit(readFileSync(join(UNIT_DIR, f), "utf8"))]));
const values = (u: Unit, section: string, key: string): string[] => u.get(section)?.get(key) ?? [];
const last = (u: Unit, section: string, key: string): string | undefined => values(u, section, key).at(-1);
const words = (u: Unit, section: string, key: string): string[] => values(u, section, key).flatMap((v) => v.split(/\s+/)).filter((w) => w !== "");
const MEMBERS = ["mesh-gateway.service", "mesh-sidecar@.service"];

/** seconds in a systemd time span such as 30, 30s, 1min 30s */
function seconds(span: string): number {
  const units: Record<string, number> = { "": 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const m of span.matchAll(/(\d+)\s*([a-z]*)/g)) total += Number(m[1]) * (units[m[2]!] ?? Number.NaN);
  return total;
}

test("the three units are there", () => {
  expect(unitFiles).toEqual(["mesh-ca.service", "mesh-gateway.service", "mesh-sidecar@.service"]);
});

// ---- systemd-analyze verify ---------------------------------------------------------------------------------------

const analyze = Bun.which("systemd-analyze");
const work = mkdtempSync(join(tmpdir(), "systemd-units-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function verify(files: string[]): { code: number; out: string } {
  const run = Bun.spawnSync([analyze!, "verify", "--man=no", ...files], { cwd: work, stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode, out: `${run.stdout.toString()}${run.stderr.toString()}`.trim() };
}

/** Whether verify works here at all: a trivial unit must pass and a unit with an unknown key must be reported. */
function analyzeUsable(): string | undefined {
  if (analyze === null) return "systemd-analyze is not installed";
  mkdirSync(join(work, "probe"), { recursive: true });
  writeFileSync(join(work, "probe/good.service"), "[Service]\nExecStart=/bin/sh -c true\n");
  writeFileSync(join(work, "probe/bad.service"), "[Service]\nExecStart=/bin/sh -c true\nNoSuchKey=1\n");
  const good = verify([join(work, "probe/good.service")]);
  if (good.code !== 0 || good.out !== "") return `systemd-analyze verify fails on a trivial unit here (${good.code}): ${good.out}`;
  if (!verify([join(work, "probe/bad.service")]).out.includes("NoSuchKey")) return "systemd-analyze verify here does not report unknown keys";
  return undefined;
}
const cannotVerify = analyzeUsable();
if (cannotVerify !== undefined) console.warn(`systemd-units: skipping systemd-analyze verify: ${cannotVerify}; the parser checks below still run`);

test.skipIf(cannotVerify !== undefined)("systemd-analyze verify: every unit loads with no warning (paths pointed at a stub bun)", () => {
  const dir = join(work, "units");
  mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
  const stub = join(dir, "node_modules/.bin/bun");
  writeFileSync(stub, "#!/bin/sh\nexit 0\n");
  chmodSync(stub, 0o755);
  const copies: string[] = [];
  for (const f of unitFiles) {
    const text = readFileSync(join(UNIT_DIR, f), "utf8").replaceAll(BUN, stub).replaceAll(`WorkingDirectory=${CHECKOUT}`, `WorkingDirectory=${dir}`);
    // A template is verified as an instance: the uninstantiated file is not fully checked.
    const name = f.replace("@.service", "@echo.service");
    writeFileSync(join(dir, name), text);
    copies.push(join(dir, name));
  }
  const run = verify(copies);
  if (run.out !== "") console.error(run.out);
  expect(run.out).toBe("");
  expect(run.code).toBe(0);
});

test.skipIf(cannotVerify !== undefined)("systemd-analyze verify: the units as shipped differ from the verified copies only in the bun path", () => {
  // The verify above is only meaningful if nothing but the checkout paths was changed; with the real paths verify
  // must complain about exactly the missing bun (when there is no checkout in /opt/vm-mesh).
  if (existsSync(BUN)) return;
  const dir = join(work, "as-shipped");
  mkdirSync(dir, { recursive: true });
  for (const f of unitFiles) copyFileSync(join(UNIT_DIR, f), join(dir, f.replace("@.service", "@echo.service")));
  const run = verify(readdirSync(dir).map((f) => join(dir, f)));
  const complaints = run.out.split("\n").filter((l) => l !== "");
  expect(complaints.length).toBeGreaterThan(0);
  for (const line of complaints) expect(line).toContain(BUN);
});

// ---- the parser checks --------------------------------------------------------------------------------------------

const HARDENING: Record<string, string> = {
  NoNewPrivileges: "yes",
  ProtectSystem: "strict",
  ProtectHome: "yes",
  PrivateTmp: "yes",
  CapabilityBoundingSet: "",
  RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
  LockPersonality: "yes",
  SystemCallArchitectures: "native",
  Restart: "on-failure",
  RestartSec: "2",
  KillSignal: "SIGTERM",
  StateDirectoryMode: "0700",
  RuntimeDirectoryMode: "0700",
};

for (const [file, unit] of units) {
  test(`${file}: hardening, restart and directories`, () => {
    for (const [key, want] of Object.entries(HARDENING)) {
      expect({ key, value: last(unit, "Service", key) }).toEqual({ key, value: want });
    }
    // Bun's JIT needs W+X memory: setting this would kill the process at start, in either spelling.
    expect(values(unit, "Service", "MemoryDenyWriteExecute")).toEqual([]);
    expect(last(unit, "Service", "StateDirectory")).toBeDefined();
    expect(last(unit, "Service", "RuntimeDirectory")).toBeDefined();
    expect(last(unit, "Unit", "StartLimitIntervalSec")).toBeDefined();
    expect(last(unit, "Unit", "StartLimitBurst")).toBeDefined();
    // A dedicated user: a transient one, or a named system user (never root).
    const dynamic = last(unit, "Service", "DynamicUser") === "yes";
    const user = last(unit, "Service", "User");
    expect(dynamic || (user !== undefined && user !== "root" && user !== "0")).toBe(true);
    // Writable paths: the state directory only (StateDirectory= is writable by itself under ProtectSystem=strict).
    const state = words(unit, "Service", "StateDirectory").map((d) => `/var/lib/${d}`);
    for (const p of words(unit, "Service", "ReadWritePaths")) expect(state).toContain(p.replace(/^-/, "").replace(/^%S\//, "/var/lib/"));
    // No capability unless a drop-in adds it (the gateway's comment says how for :443).
    expect(words(unit, "Service", "AmbientCapabilities")).toEqual([]);
  });

  test(`${file}: ordered after the network; the mode is not decided by the unit`, () => {
    expect(words(unit, "Unit", "After")).toContain("network-online.target");
    expect(words(unit, "Unit", "Wants")).toContain("network-online.target");
    const env = values(unit, "Service", "Environment").join(" ");
    for (const name of ["MESH_CONFIG", "MESH_CONSUL", "CONSUL_HTTP_ADDR"]) expect(env).not.toContain(`${name}=`);
    // Nothing hard on Consul or the CA: a file-mode member, and the CA itself, must start without them.
    for (const key of ["Requires", "Requisite", "BindsTo", "PartOf"]) {
      for (const w of words(unit, "Unit", key)) expect(["consul.service", "mesh-ca.service"]).not.toContain(w);
    }
  });

  test(`${file}: runs bun from the checkout, on an entry point of the README`, () => {
    const exec = last(unit, "Service", "ExecStart")!.split(/\s+/);
    expect(exec.slice(0, 2)).toEqual([BUN, "run"]);
    expect(existsSync(join(REPO, exec[2]!))).toBe(true);
    expect(last(unit, "Service", "WorkingDirectory")).toBe(CHECKOUT);
  });
}

test("sidecar and gateway: soft ordering after the local Consul agent and the CA", () => {
  for (const file of MEMBERS) {
    const unit = units.get(file)!;
    for (const dep of ["consul.service", "mesh-ca.service"]) {
      expect({ file, dep, after: words(unit, "Unit", "After").includes(dep) }).toEqual({ file, dep, after: true });
      expect({ file, dep, wants: words(unit, "Unit", "Wants").includes(dep) }).toEqual({ file, dep, wants: true });
    }
  }
});

test("the CA does not depend on Consul", () => {
  const ca = units.get("mesh-ca.service")!;
  for (const [key, vals] of ca.get("Unit")!) {
    for (const v of vals) expect(`${key}=${v}`).not.toContain("consul");
  }
});

test("the stop timeout leaves room for the drain delay and the default drain timeout", () => {
  const defaults = readFileSync(join(REPO, "shared/config/defaults.ts"), "utf8");
  const drain = /drainTimeout:\s*"(\d+)s"/.exec(defaults);
  expect(drain).not.toBeNull();
  const needed = Number(drain![1]) + 2; // + the sidecar's --drain-delay default (2 s)
  for (const [file, unit] of units) {
    expect({ file, stop: seconds(last(unit, "Service", "TimeoutStopSec") ?? "0") > needed }).toEqual({ file, stop: true });
  }
});

test("the package.json scripts the README uses run the same entry points", () => {
  const scripts = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  expect(scripts.sidecar).toBe(`bun run ${last(units.get("mesh-sidecar@.service")!, "Service", "ExecStart")!.split(/\s+/)[2]}`);
  expect(scripts.gateway).toBe(`bun run ${last(units.get("mesh-gateway.service")!, "Service", "ExecStart")!.split(/\s+/)[2]}`);
});

const EXAMPLES: Record<string, string> = {
  "mesh-sidecar@.service": "sidecar.env.example",
  "mesh-gateway.service": "gateway.env.example",
  "mesh-ca.service": "ca.env.example",
};

test("every unit has an env example naming both MESH_CONFIG and MESH_CONSUL", () => {
  for (const [file, example] of Object.entries(EXAMPLES)) {
    const text = readFileSync(join(UNIT_DIR, example), "utf8");
    expect({ example, config: text.includes("MESH_CONFIG"), consul: text.includes("MESH_CONSUL") }).toEqual({ example, config: true, consul: true });
    // The unit reads the file the example says it is installed as.
    const installedAs = /^# (\/etc\/vm-mesh\/\S+)/m.exec(text)![1]!;
    const envFiles = values(units.get(file)!, "Service", "EnvironmentFile").map((f) => f.replace(/^-/, "").replace("%i", "<instance>"));
    expect(envFiles).toContain(installedAs);
  }
});

test("member env examples: both modes shown, commented, so the operator picks one; nothing the unit owns", () => {
  for (const file of MEMBERS) {
    const text = readFileSync(join(UNIT_DIR, EXAMPLES[file]!), "utf8");
    expect(text).toMatch(/^#MESH_CONFIG=\/etc\/vm-mesh\/mesh\.yaml$/m);
    expect(text).toMatch(/^#MESH_CONSUL=auto$/m);
    expect(text).not.toMatch(/^MESH_(CONFIG|CONSUL)=/m);
    expect(text).not.toMatch(/^MESH_STATE_DIR=/m);
    expect(text).toMatch(/^MESH_CA_FINGERPRINT=/m);
  }
});

test("the CA's ExecStart variables all have defaults in the unit", () => {
  const ca = units.get("mesh-ca.service")!;
  const defaults = new Set(words(ca, "Service", "Environment").map((kv) => kv.split("=")[0]));
  const used = [...last(ca, "Service", "ExecStart")!.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
  expect(used.length).toBeGreaterThan(0);
  for (const name of used) expect(defaults.has(name)).toBe(true);
});
