// What the .deb holds besides the binary: the systemd units rewritten to run /usr/bin/vm-mesh, the control file and
// the maintainer scripts. Pure text transforms, so the package test checks them without building anything.

/** A unit from deploy/systemd as installed by the package: the binary instead of a checkout with node_modules. */
export function packagedUnit(text: string): string {
  const header = "# Installed by the vm-mesh package: ExecStart runs /usr/bin/vm-mesh (notes below about /opt/vm-mesh are for a checkout).\n";
  return header + text
    .replace(/\/opt\/vm-mesh\/node_modules\/\.bin\/bun run sidecar\/main\.ts/g, "/usr/bin/vm-mesh sidecar")
    .replace(/\/opt\/vm-mesh\/node_modules\/\.bin\/bun run gateway\/main\.ts/g, "/usr/bin/vm-mesh gateway")
    .replace(/\/opt\/vm-mesh\/node_modules\/\.bin\/bun run ca\/main\.ts/g, "/usr/bin/vm-mesh ca")
    // The binary needs no checkout to run from; the state directory is the only place it writes.
    .replace(/^WorkingDirectory=\/opt\/vm-mesh$/gm, "WorkingDirectory=/var/lib/vm-mesh")
    .replace(/file:\/opt\/vm-mesh\/docs\//g, "file:/usr/share/doc/vm-mesh/");
}

export function controlFile(o: { version: string; installedKb: number }): string {
  return [
    "Package: vm-mesh",
    `Version: ${o.version}`,
    "Architecture: amd64",
    "Section: net",
    "Priority: optional",
    "Depends: libc6",
    `Installed-Size: ${o.installedKb}`,
    "Maintainer: vm-mesh maintainers <maintainers@vm-mesh.invalid>",
    "Homepage: https://github.com/vm-mesh/vm-mesh",
    "Description: service mesh for VMs without Kubernetes",
    " One binary with the sidecar, the ingress gateway, the certificate authority and meshctl: mTLS with SPIFFE",
    " identities, routing, canaries, retries, circuit breaking, metrics and tracing, beside the Consul you run.",
    "",
  ].join("\n");
}

/**
 * The CA runs as a static mesh-ca user (its admin secret must be readable by `meshctl token` run as that user);
 * members run as transient users (DynamicUser=). Under `dpkg --root` (DPKG_ROOT set) nothing touches the host.
 */
export const POSTINST = `#!/bin/sh
set -e
if [ "$1" = "configure" ] && [ -z "$DPKG_ROOT" ]; then
  if ! getent passwd mesh-ca >/dev/null; then
    useradd --system --home-dir /var/lib/mesh-ca --no-create-home --shell /usr/sbin/nologin mesh-ca
  fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
exit 0
`;

export const POSTRM = `#!/bin/sh
set -e
if [ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
`;
