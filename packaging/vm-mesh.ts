// The single executable (`npm run package` compiles it with `bun build --compile`): one binary, subcommands for the
// daemons and the CLI. Each subcommand is the same entry point the npm scripts run, given the rest of the arguments.
import pkg from "../package.json" with { type: "json" };

const USAGE = `usage: vm-mesh <command> [flags]
commands:
  sidecar   one per service instance (as \`bun run sidecar\`)
  gateway   the ingress gateway (as \`bun run gateway\`)
  ca        the certificate authority: init, serve, ... (as \`bun run ca/main.ts\`)
  ctl       meshctl (as \`npm run meshctl --\`)
  version   print the version
each command answers --help, e.g. \`vm-mesh sidecar --help\``;

const [cmd, ...rest] = process.argv.slice(2);
// The entry points read process.argv.slice(2): give them their own arguments, as if started on their own.
const as = (name: string): void => {
  process.argv = [process.argv[0]!, `vm-mesh-${name}`, ...rest];
};

if (cmd === "version" || cmd === "--version" || cmd === "-v") {
  console.log(`vm-mesh ${pkg.version} (bun ${Bun.version})`);
} else if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
  console.log(USAGE);
} else if (cmd === "sidecar") {
  as(cmd);
  await import("../sidecar/main.ts");
} else if (cmd === "gateway") {
  as(cmd);
  await import("../gateway/main.ts");
} else if (cmd === "ca") {
  as(cmd);
  // @peculiar/x509 (the CA's) needs the reflect polyfill before it loads; in one bundle, module order is the
  // bundler's, so it is loaded here first. Members don't load x509, so only this command pays for it.
  await import("reflect-metadata");
  await import("../ca/main.ts");
} else if (cmd === "ctl" || cmd === "meshctl") {
  as("ctl");
  await import("../cli/meshctl.ts");
} else {
  console.error(`vm-mesh: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  process.exit(2);
}
