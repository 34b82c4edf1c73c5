// `npm run package` end to end: builds the single executable, the tarball and the .deb, installs the .deb with dpkg
// into a private root (the host's dpkg state untouched), then runs a CA and a sidecar from the installed files alone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProcessGroup } from "../deploy/lib/process-group.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { devCa } from "../deploy/lib/dev-ca.ts";
import { packagedUnit } from "../packaging/deb.ts";
import pkg from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "..");
const HAVE_DPKG = Bun.which("dpkg-deb") !== null && Bun.which("dpkg") !== null;
const tmp = mkdtempSync(join(tmpdir(), "mesh-package-"));
const out = join(tmp, "dist");
const root = join(tmp, "root");
const group = new ProcessGroup();
const bin = (): string => join(root, "usr/bin/vm-mesh");

const sh = (cmd: string[], env: Record<string, string> = {}) => {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
};

beforeAll(() => {
  const built = sh([process.execPath, join(ROOT, "packaging/build.ts"), "--out", out]);
  if (built.code !== 0) throw new Error(`npm run package failed: ${built.err}${built.out}`);
}, 180_000);

afterAll(async () => {
  await group.stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

test("the executable runs without node_modules: version, help, and every command's --help", () => {
  const v = sh([join(out, "vm-mesh"), "version"]);
  expect(v.code).toBe(0);
  expect(v.out).toContain(`vm-mesh ${pkg.version}`);
  expect(sh([join(out, "vm-mesh"), "--help"]).out).toContain("sidecar");
  for (const cmd of ["sidecar", "gateway", "ca", "ctl"]) {
    const h = sh([join(out, "vm-mesh"), cmd, "--help"]);
    expect(h.code, `${cmd} --help: ${h.err}`).toBe(0);
    expect(h.out.length).toBeGreaterThan(40);
  }
  expect(sh([join(out, "vm-mesh"), "nonsense"]).code).toBe(2);
});

test("the tarball carries the binary, the units, the env examples and the docs", () => {
  const t = sh(["tar", "-tzf", join(out, `vm-mesh-${pkg.version}-linux-x64.tar.gz`)]);
  expect(t.code).toBe(0);
  for (const f of ["vm-mesh", "systemd/mesh-sidecar@.service", "etc/sidecar.env.example", "etc/examples/demo.yaml", "doc/vm-install.md"]) {
    expect(t.out).toContain(`vm-mesh-${pkg.version}/${f}`);
  }
});

test("packaged units run the binary, never a checkout", () => {
  for (const unit of ["mesh-sidecar@.service", "mesh-gateway.service", "mesh-ca.service"]) {
    const text = packagedUnit(readFileSync(join(ROOT, "deploy/systemd", unit), "utf8"));
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/vm-mesh (sidecar|gateway|ca serve)/m);
    expect(text).not.toMatch(/^(ExecStart|WorkingDirectory)=.*\/opt\/vm-mesh/m);
  }
});

test.skipIf(!HAVE_DPKG)("dpkg installs the .deb: binary, units, /etc/vm-mesh examples, /var/lib/vm-mesh", () => {
  const deb = join(out, `vm-mesh_${pkg.version}_amd64.deb`);
  const info = sh(["dpkg-deb", "--info", deb]);
  expect(info.out).toContain("Package: vm-mesh");
  mkdirSync(join(root, "var/lib/dpkg/info"), { recursive: true });
  mkdirSync(join(root, "var/lib/dpkg/updates"), { recursive: true });
  for (const f of ["status", "available"]) writeFileSync(join(root, "var/lib/dpkg", f), "");
  // A private root: dpkg keeps its database there and runs the maintainer scripts with DPKG_ROOT set, so nothing on
  // the host changes. libc6 is not in that empty database, hence --force-depends.
  const i = sh(["dpkg", `--root=${root}`, "--force-script-chrootless", "--force-not-root", "--force-depends", "--log=/dev/null", "-i", deb]);
  expect(i.code, i.err + i.out).toBe(0);
  const s = sh(["dpkg", `--root=${root}`, "--force-not-root", "-s", "vm-mesh"]);
  expect(s.out).toContain("Status: install ok installed");
  for (const f of ["usr/bin/vm-mesh", "lib/systemd/system/mesh-sidecar@.service", "lib/systemd/system/mesh-ca.service", "etc/vm-mesh/sidecar.env.example", "etc/vm-mesh/examples/demo.yaml", "usr/share/doc/vm-mesh/vm-install.md"]) {
    expect(existsSync(join(root, f)), f).toBe(true);
  }
  expect(existsSync(join(root, "var/lib/vm-mesh"))).toBe(true);
  expect(sh([bin(), "version"]).out).toContain(`vm-mesh ${pkg.version}`);
});

test.skipIf(!HAVE_DPKG)("a CA and a sidecar start from the installed files alone", async () => {
  expect(existsSync(bin())).toBe(true);
  const caState = join(tmp, "ca");
  const init = sh([bin(), "ca", "init", "--state", caState, "--trust-domain", "mesh.local"]);
  expect(init.code, init.err).toBe(0);
  const fingerprint = init.out.trim().split("\n").pop()!;
  const caProc = await group.spawn("ca", [bin(), "ca", "serve", "--state", caState, "--address", "127.0.0.1", "--port", "0", "--admin-port", "0"], { env: { PWD: tmp } });
  const ca = devCa(caState, fingerprint.trim(), caProc.ready);
  const app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("app") });
  try {
    const [inbound, outbound, admin] = [await freePort(), await freePort(), await freePort()];
    const sidecar = await group.spawn("sidecar", [
      bin(), "sidecar", "--config", join(root, "etc/vm-mesh/examples/demo.yaml"), "--service", "web", "--app-port", String(app.port),
      "--inbound-port", String(inbound), "--outbound-port", String(outbound), "--admin-port", String(admin),
      ...(await ca.memberArgs("web", join(tmp, "sidecar-state"))),
    ]);
    expect(sidecar.ready.service).toBe("web");
    const health = await fetch(`http://127.0.0.1:${admin}/ready`);
    expect(health.status).toBe(200);
  } finally {
    app.stop(true);
  }
}, 60_000);
