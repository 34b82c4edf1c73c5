// Three "hosts" as network namespaces on one bridge (10.<random>.0.1-3/24, the root namespace at .254): setup
// and teardown with iproute2. Synchronous on purpose, so teardown also runs from a process 'exit' hook.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const HOSTS = ["host1", "host2", "host3"] as const;
export type HostName = (typeof HOSTS)[number];

export type Host = { name: HostName; ns: string; address: string; veth: string };
export type Network = {
  /** Short random id: part of every namespace and link name, so parallel runs never share one. */
  id: string;
  subnet: string;
  bridge: string;
  /** The root namespace's address on the bridge (load comes from here). */
  rootAddress: string;
  hosts: Record<HostName, Host>;
};

export class NetnsError extends Error {
  override readonly name = "NetnsError";
}

function ip(args: string[], okToFail = false): string {
  const p = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0 && !okToFail) throw new NetnsError(`ip ${args.join(" ")}: ${p.stderr.toString().trim() || `exit ${p.exitCode}`}`);
  return p.stdout.toString();
}

/** Why this machine cannot run the three hosts (not root, no iproute2, no netns permission), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces, veths and a bridge are created)";
  if (Bun.which("ip") === null) return "needs iproute2 (`ip` is not on PATH)";
  const probe = `vmmprobe${process.pid}`;
  const add = Bun.spawnSync(["ip", "netns", "add", probe], { stdout: "pipe", stderr: "pipe" });
  if (add.exitCode !== 0) return `cannot create a network namespace: ${add.stderr.toString().trim()}`;
  Bun.spawnSync(["ip", "netns", "del", probe]);
  return undefined;
}

/** A 10.X.0.0/24 whose second octet no address or route on this machine uses yet. */
function pickSubnet(): string {
  const used = new Set<number>();
  const text = ip(["-o", "-4", "addr", "show"]) + ip(["-4", "route", "show", "table", "all"]);
  for (const m of text.matchAll(/\b10\.(\d{1,3})\.\d{1,3}\.\d{1,3}/g)) used.add(Number(m[1]));
  if (/\b10\.0\.0\.0\/8\b/.test(text)) throw new NetnsError("10.0.0.0/8 is routed on this machine; cannot pick a private subnet from it");
  for (let tries = 0; tries < 200; tries++) {
    const x = 64 + Math.floor(Math.random() * 190);
    if (!used.has(x)) return `10.${x}.0`;
  }
  throw new NetnsError("no free 10.X.0.0/24 subnet");
}

/** Each live network is recorded with its owner's PID, so a run killed with SIGKILL is cleaned up by the next one. */
const REGISTRY = join(tmpdir(), "vm-mesh-3hosts-networks");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/** Deletes networks whose owning process is gone (a run that could not run its teardown); returns their ids. */
export function sweepStaleNetworks(): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(REGISTRY).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const f of files) {
    try {
      const { pid, net } = JSON.parse(readFileSync(join(REGISTRY, f), "utf8")) as { pid: number; net: Network };
      if (alive(pid)) continue;
      destroyNetwork(net);
      swept.push(net.id);
    } catch {
      rmSync(join(REGISTRY, f), { force: true });
    }
  }
  return swept;
}

export function createNetwork(): Network {
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 6);
  const subnet = pickSubnet();
  const net: Network = {
    id,
    subnet: `${subnet}.0/24`,
    bridge: `vmm${id}br`,
    rootAddress: `${subnet}.254`,
    hosts: Object.fromEntries(HOSTS.map((h, i) => [h, { name: h, ns: `vmm-${id}-${h}`, address: `${subnet}.${i + 1}`, veth: `vmm${id}h${i + 1}` }])) as Record<HostName, Host>,
  };
  mkdirSync(REGISTRY, { recursive: true, mode: 0o700 });
  writeFileSync(join(REGISTRY, `${id}.json`), JSON.stringify({ pid: process.pid, net }));
  try {
    ip(["link", "add", net.bridge, "type", "bridge"]);
    ip(["addr", "add", `${net.rootAddress}/24`, "dev", net.bridge]);
    ip(["link", "set", net.bridge, "up"]);
    for (const h of Object.values(net.hosts)) {
      const peer = `${h.veth}p`; // renamed to eth0 inside the namespace
      ip(["netns", "add", h.ns]);
      ip(["link", "add", h.veth, "type", "veth", "peer", "name", peer]);
      ip(["link", "set", h.veth, "master", net.bridge]);
      ip(["link", "set", h.veth, "up"]);
      ip(["link", "set", peer, "netns", h.ns]);
      ip(["-n", h.ns, "link", "set", peer, "name", "eth0"]);
      ip(["-n", h.ns, "addr", "add", `${h.address}/24`, "dev", "eth0"]);
      ip(["-n", h.ns, "link", "set", "eth0", "up"]);
      ip(["-n", h.ns, "link", "set", "lo", "up"]);
    }
  } catch (err) {
    destroyNetwork(net);
    throw err;
  }
  return net;
}

/** Cuts a host off the bridge (its namespace and processes stay): packets to it are dropped, not refused. */
export function unplugHost(net: Network, host: HostName): void {
  ip(["link", "set", net.hosts[host].veth, "down"]);
}

/**
 * SIGKILL whatever still runs inside the namespaces (only processes this run started can be there), then delete
 * the namespaces, the veths and the bridge. Never throws; returns what could not be removed.
 */
export function destroyNetwork(net: Network): string[] {
  const problems: string[] = [];
  const namespaces = new Set(ip(["netns", "list"], true).split("\n").map((l) => l.split(" ")[0]));
  for (const h of Object.values(net.hosts)) {
    if (namespaces.has(h.ns)) {
      for (const pid of ip(["netns", "pids", h.ns], true).split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone already
        }
      }
      const del = Bun.spawnSync(["ip", "netns", "del", h.ns], { stderr: "pipe" });
      if (del.exitCode !== 0) problems.push(`netns ${h.ns}: ${del.stderr.toString().trim()}`);
    }
    if (linkExists(h.veth)) ip(["link", "del", h.veth], true);
    if (linkExists(h.veth)) problems.push(`link ${h.veth} still exists`);
  }
  if (linkExists(net.bridge)) ip(["link", "del", net.bridge], true);
  if (linkExists(net.bridge)) problems.push(`bridge ${net.bridge} still exists`);
  if (problems.length === 0) rmSync(join(REGISTRY, `${net.id}.json`), { force: true });
  return problems;
}

function linkExists(name: string): boolean {
  return Bun.spawnSync(["ip", "link", "show", name], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

/** Links and namespaces left behind by any run of this harness (for the test's clean-up check). */
export function leftovers(net: Network): string[] {
  const names = [net.bridge, ...Object.values(net.hosts).flatMap((h) => [h.veth, h.ns])];
  const text = ip(["link", "show"], true) + ip(["netns", "list"], true);
  return names.filter((n) => new RegExp(`\\b${n}\\b`).test(text));
}
