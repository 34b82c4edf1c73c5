// `npm run package [-- --out DIR]`: the single executable (bun build --compile), a tarball and a .deb (dpkg-deb) in
// dist/. The binary runs without node_modules; the .deb installs it, the systemd units, /etc/vm-mesh examples, /var/lib/vm-mesh.
import { chmodSync, copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { controlFile, packagedUnit, POSTINST, POSTRM } from "./deb.ts";

const ROOT = resolve(import.meta.dir, "..");
const USAGE = `usage: npm run package [-- --out DIR]   (default DIR: dist/)
builds DIR/vm-mesh (one executable: sidecar, gateway, ca, ctl), DIR/vm-mesh-<version>-linux-x64.tar.gz and
DIR/vm-mesh_<version>_amd64.deb; needs dpkg-deb for the .deb (skipped with a note without it)`;

function run(cmd: string[], cwd = ROOT): void {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${p.exitCode}): ${p.stderr.toString()}${p.stdout.toString()}`);
}

function sizeKb(dir: string): number {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

/** The files every artifact carries next to the binary: units, env examples, config examples, docs. */
function stageShared(into: { units: string; etc: string; doc: string }): void {
  for (const d of Object.values(into)) mkdirSync(d, { recursive: true });
  const systemd = join(ROOT, "deploy/systemd");
  for (const f of readdirSync(systemd)) {
    const src = join(systemd, f);
    if (f.endsWith(".service")) writeFileSync(join(into.units, f), packagedUnit(readFileSync(src, "utf8")));
    else if (f.endsWith(".env.example")) copyFileSync(src, join(into.etc, f));
  }
  cpSync(join(ROOT, "deploy/examples"), join(into.etc, "examples"), { recursive: true });
  for (const f of ["README.md", "docs/vm-install.md", "docs/config.md", "docs/cli.md", "docs/observability.md"]) copyFileSync(join(ROOT, f), join(into.doc, f.split("/").pop()!));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) return void console.log(USAGE);
  const outFlag = argv.indexOf("--out");
  const out = resolve(outFlag >= 0 && argv[outFlag + 1] !== undefined ? argv[outFlag + 1]! : join(ROOT, "dist"));
  const version = pkg.version;
  mkdirSync(out, { recursive: true });

  const bin = join(out, "vm-mesh");
  run([process.execPath, "build", "--compile", "--minify-syntax", join(ROOT, "packaging/vm-mesh.ts"), "--outfile", bin]);
  console.log(`built ${bin}`);

  const tarRoot = join(out, `vm-mesh-${version}`);
  rmSync(tarRoot, { recursive: true, force: true });
  mkdirSync(tarRoot, { recursive: true });
  copyFileSync(bin, join(tarRoot, "vm-mesh"));
  chmodSync(join(tarRoot, "vm-mesh"), 0o755);
  stageShared({ units: join(tarRoot, "systemd"), etc: join(tarRoot, "etc"), doc: join(tarRoot, "doc") });
  const tarball = join(out, `vm-mesh-${version}-linux-x64.tar.gz`);
  run(["tar", "-czf", tarball, "-C", out, `vm-mesh-${version}`]);
  rmSync(tarRoot, { recursive: true, force: true });
  console.log(`built ${tarball}`);

  if (Bun.which("dpkg-deb") === null) return void console.log("dpkg-deb not found: no .deb built (apt-get install dpkg)");
  const stage = join(out, `deb-${version}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "usr/bin"), { recursive: true });
  copyFileSync(bin, join(stage, "usr/bin/vm-mesh"));
  chmodSync(join(stage, "usr/bin/vm-mesh"), 0o755);
  stageShared({ units: join(stage, "lib/systemd/system"), etc: join(stage, "etc/vm-mesh"), doc: join(stage, "usr/share/doc/vm-mesh") });
  mkdirSync(join(stage, "var/lib/vm-mesh"), { recursive: true });
  mkdirSync(join(stage, "DEBIAN"), { recursive: true });
  writeFileSync(join(stage, "DEBIAN/control"), controlFile({ version, installedKb: sizeKb(stage) }));
  for (const [name, text] of [["postinst", POSTINST], ["postrm", POSTRM]] as const) {
    writeFileSync(join(stage, "DEBIAN", name), text);
    chmodSync(join(stage, "DEBIAN", name), 0o755);
  }
  const deb = join(out, `vm-mesh_${version}_amd64.deb`);
  run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", stage, deb]);
  rmSync(stage, { recursive: true, force: true });
  console.log(`built ${deb}`);
}

try {
  await main();
} catch (e) {
  console.error(`package: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
