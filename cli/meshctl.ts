// meshctl: validate a mesh file, and apply / diff / get / delete its documents in Consul KV, or tear the mesh down.
// Exit codes (member/cli.ts): 0 ok, 1 problem found (file:path: reason, deny, not found), 2 usage, 3 Consul/CA unreachable.
import { parseArgs } from "node:util";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { formatIssue, type ConfigIssue } from "../shared/config/issues.ts";
import { splitIntoKvDocuments } from "../shared/config/kv-split.ts";
import { CONFIRM_DOCUMENT, documentSizeMessage, parseMaxDocumentBytes } from "../shared/config/kv-documents.ts";
import { consulAddr, kvPrefix } from "../member/flags.ts";
import { ConsulUnreachable, kvClient, meshStatus, type KvItem } from "./consul-kv.ts";
import { confirm, lastDocumentNote, removeMarker, teardown } from "./confirm-marker.ts";
import { authzCheck, formatCheck, loadConfig } from "./authz-check.ts";
import { runToken } from "./token.ts";
import { formatExplain, runExplain, type ExplainFlags } from "./explain.ts";
import { formatWhatIf, hasChanges, runWhatIf, type WhatIfFlags } from "./what-if.ts";
import { formatVerdict, runChecks } from "./check.ts";
import { consulReader } from "./member-reports.ts";
import { formatProxyConfig, kvPrefixOf, proxyConfigOf } from "./proxy-config.ts";
import { runCa } from "./ca-rotate.ts";
import { CaUnreachable } from "./ca-admin-client.ts";
import { COMMANDS, commandWords, findCommand, flagsOf, parseOptions, takesValue } from "./commands.ts";
import { helpFor } from "./help.ts";
import { completionScript, SHELLS, type Shell } from "./completion.ts";
import { EXIT, helpOrVersion, isUsageError, UsageError, versionText } from "../member/cli.ts";

class InvalidInput extends Error {
  constructor(readonly issues: ConfigIssue[], message?: string) {
    super(message ?? issues.map(formatIssue).join("\n"));
  }
}

type Out = { json: boolean; print(human: string, data: unknown): void };

async function load(file: string | undefined): Promise<Map<string, string>> {
  if (file === undefined) throw new UsageError("-f FILE is required");
  const f = Bun.file(file);
  if (!(await f.exists())) throw new InvalidInput([{ source: file, path: "(root)", message: "file not found" }]);
  const parsed = await parseMeshConfig(await f.text(), file);
  if (!parsed.ok) throw new InvalidInput(parsed.issues);
  return splitIntoKvDocuments(parsed.config, "");
}

/** Refused before anything is written: members would reject the document anyway (its old version would stay). */
function checkSizes(docs: Map<string, string>, file: string, prefix: string, limit: number): void {
  const issues: ConfigIssue[] = [];
  for (const [rel, text] of docs) {
    const size = Buffer.byteLength(text);
    if (size > limit) issues.push({ source: file, path: `${prefix}${rel}`, message: documentSizeMessage(size, limit) });
  }
  if (issues.length > 0) throw new InvalidInput(issues);
}

type Change = { key: string; action: "create" | "update" | "unchanged"; current?: KvItem; next: string };

function plan(desired: Map<string, string>, current: KvItem[], prefix: string): Change[] {
  const byKey = new Map(current.map((c) => [c.key, c]));
  return [...desired].map(([rel, next]) => {
    const key = `${prefix}${rel}`;
    const cur = byKey.get(key);
    const action = cur === undefined ? "create" : cur.value === next ? "unchanged" : "update";
    return { key, action, current: cur, next };
  });
}

function renderDiff(changes: Change[]): string {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.action === "unchanged") continue;
    lines.push(`${c.action === "create" ? "+" : "~"} ${c.key}`);
    if (c.current !== undefined) for (const l of c.current.value.trimEnd().split("\n")) lines.push(`    - ${l}`);
    for (const l of c.next.trimEnd().split("\n")) lines.push(`    + ${l}`);
  }
  const unchanged = changes.filter((c) => c.action === "unchanged").length;
  lines.push(`${changes.length - unchanged} to write, ${unchanged} unchanged`);
  return lines.join("\n");
}

/** The flags of every Consul command (validate .. status, authz): one parse, so a flag means the same everywhere. */
const CONSUL_FLAGS = COMMANDS.filter((c) => c.name !== "token" && c.name !== "ca").flatMap(flagsOf);

async function run(argv: string[], out: Out): Promise<void> {
  // --help and --version before anything else: asking for help never talks to Consul or the CA.
  const asked = helpOrVersion(argv, takesValue);
  const words = commandWords(argv);
  if (asked === "version") return void console.log(versionText());
  if (asked === "help") return void console.log(helpFor(findCommand(words).path));
  if (words[0] === "help") {
    const found = findCommand(words.slice(1));
    if (found.rest.length > 0) throw new UsageError(`meshctl help: unknown command "${words.slice(1).join(" ")}"`);
    return void console.log(helpFor(found.path));
  }
  if (words.length === 0) throw new UsageError("which command? (meshctl --help lists them)");
  // Join tokens talk to the CA, not Consul, and have flags of their own.
  if (argv[0] === "token") return runToken(argv.slice(1), out);
  if (argv[0] === "ca") return runCa(argv.slice(1), out);
  const { values: raw, positionals } = parseArgs({ args: argv, allowPositionals: true, options: parseOptions(CONSUL_FLAGS) });
  const values = raw as {
    file?: string; "dry-run"?: boolean; consul?: string; "kv-prefix"?: string; prefix?: string; yes?: boolean; confirm?: boolean; reason?: string;
    "max-document-bytes"?: string; from?: string; to?: string; header?: string[];
  };
  const [command, ...rest] = positionals;
  if (command === "completion") {
    const shell = rest[0];
    if (!SHELLS.includes(shell as Shell)) throw new UsageError(`meshctl completion: which shell? (${SHELLS.join(", ")})`);
    return void process.stdout.write(completionScript(shell as Shell));
  }
  // --kv-prefix as the daemons spell it; --prefix stays as an alias (scripts written before the rename).
  const prefixFlag = values["kv-prefix"] ?? values.prefix ?? process.env.MESH_KV_PREFIX;
  const prefix = kvPrefix(prefixFlag);
  const consul = consulAddr(values.consul ?? process.env.CONSUL_HTTP_ADDR) ?? "http://127.0.0.1:8500";
  const kv = () => kvClient(consul, process.env.CONSUL_HTTP_TOKEN);
  const maxBytes = (): number => {
    try {
      const flag = values["max-document-bytes"];
      return flag === undefined ? parseMaxDocumentBytes(process.env.MESH_KV_MAX_DOCUMENT_BYTES) : parseMaxDocumentBytes(flag, "--max-document-bytes");
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  };

  switch (command) {
    case "validate": {
      const docs = await load(values.file);
      checkSizes(docs, values.file!, prefix, maxBytes());
      return out.print(`${values.file}: valid (${docs.size} documents)`, { valid: true, documents: [...docs.keys()] });
    }
    case "apply":
    case "diff": {
      const docs = await load(values.file);
      checkSizes(docs, values.file!, prefix, maxBytes());
      const client = kv();
      const current = await client.list(prefix);
      const changes = plan(docs, current, prefix);
      const marker = current.find((i) => i.key === `${prefix}${CONFIRM_DOCUMENT}`)?.key;
      if (command === "diff" || values["dry-run"]) {
        const note = values.confirm ? `\n+ ${prefix}${CONFIRM_DOCUMENT} (confirm marker: written after the documents)` : marker === undefined ? "" : `\n- ${marker} (confirm marker: removed after writing)`;
        return out.print(`${renderDiff(changes)}${note}`, { changes: changes.map(({ key, action }) => ({ key, action })), confirm: values.confirm === true, removesMarker: values.confirm ? undefined : marker });
      }
      for (const c of changes) {
        if (c.action === "unchanged") continue;
        if (!(await client.put(c.key, c.next, c.current?.modifyIndex ?? 0))) {
          throw new Error(`${c.key} changed in Consul while applying (check-and-set failed); nothing after it was written — run meshctl diff and apply again`);
        }
      }
      const written = changes.filter((c) => c.action !== "unchanged");
      const confirmed = values.confirm ? await confirm(client, prefix, docs.size, values.reason) : undefined;
      const removed = values.confirm ? undefined : await removeMarker(client, prefix, current);
      const note = confirmed !== undefined ? `; wrote ${confirmed}: members take these ${docs.size} documents as they are` : removed === undefined ? "" : `; removed the confirm marker ${removed}`;
      return out.print(`applied: ${written.length} written, ${changes.length - written.length} unchanged${note}`, { written: written.map((c) => c.key), confirmedMarker: confirmed, removedMarker: removed });
    }
    case "get": {
      const [kind, name] = rest;
      const items = await kv().list(kind === undefined ? prefix : `${prefix}${kind}`);
      if (name === undefined) return out.print(items.map((i) => `${i.key}  (index ${i.modifyIndex})`).join("\n") || "(no documents)", items.map(({ key, modifyIndex }) => ({ key, modifyIndex })));
      const item = items.find((i) => i.key === `${prefix}${kind}/${name}`);
      if (item === undefined) throw new InvalidInput([], `${prefix}${kind}/${name}: not found`);
      return out.print(item.value.trimEnd(), item);
    }
    case "delete": {
      const [kind, name] = rest;
      if (kind === undefined || (kind !== "settings" && name === undefined)) throw new UsageError("usage: meshctl delete KIND NAME");
      const key = kind === "settings" ? `${prefix}settings` : `${prefix}${kind}/${name}`;
      const client = kv();
      // Consul answers a delete of a missing key with success: look first, so a typo is reported, not "deleted".
      const found = (await client.list(key)).find((i) => i.key === key);
      if (found === undefined) throw new InvalidInput([], `${key}: not found, nothing deleted`);
      if (!(await client.delete(key, found.modifyIndex))) throw new Error(`${key} changed in Consul while deleting (check-and-set failed); run meshctl get and try again`);
      const note = await lastDocumentNote(client, prefix);
      if (note !== undefined && !out.json) console.error(note);
      return out.print(`deleted ${key}`, { deleted: key, note });
    }
    case "teardown": {
      if (values.yes !== true) throw new UsageError(`teardown deletes every document under ${prefix} and members then serve an empty mesh; run again with --yes`);
      const { marker, deleted } = await teardown(kv(), prefix, values.reason);
      return out.print(`torn down: ${deleted.length} documents deleted; ${marker} written, members apply an empty mesh`, { deleted, marker });
    }
    case "status": {
      const all = await meshStatus(consul, process.env.CONSUL_HTTP_TOKEN);
      // A prefix asked for: only the members whose live config comes from it (their published source names it).
      const members = prefixFlag === undefined ? all : all.filter((m) => m.source.startsWith(`consul-kv ${prefix} `));
      const rows = members.map((m) => `${m.kind.padEnd(8)} ${m.service.padEnd(12)} ${m.id.padEnd(22)} ${m.address.padEnd(21)} ${m.health.padEnd(9)} config ${m.config} (${m.source})`);
      return out.print(rows.join("\n") || `(no registered sidecars or gateways${prefixFlag === undefined ? "" : ` reading ${prefix}`})`, members);
    }
    case "authz": {
      // authz check --from web --to echo GET /path [-H 'k: v'] [-f FILE]: the live config from KV unless -f is given.
      const [sub, method, target] = rest;
      if (sub !== "check" || method === undefined || target === undefined || values.to === undefined) {
        throw new UsageError("usage: meshctl authz check [--from SERVICE|SPIFFE-ID] --to SERVICE METHOD PATH [-H 'name: value']... [-f FILE]");
      }
      let config;
      try {
        config = await loadConfig(values.file !== undefined ? { file: values.file } : { kvItems: await kv().list(prefix), prefix });
        const r = authzCheck(config, { from: values.from, to: values.to, method, target, headers: values.header ?? [] });
        out.print(formatCheck(r, method), { allowed: r.verdict.allowed, rule: r.verdict.rule, reason: r.verdict.reason, caller: r.caller, service: r.service, path: r.path });
        // Exit 1 on deny, like a check that found a problem: scripts can gate on it.
        if (!r.verdict.allowed) process.exitCode = 1;
        return;
      } catch (err) {
        if (err instanceof ConsulUnreachable) throw err;
        throw new InvalidInput([], err instanceof Error ? err.message : String(err));
      }
    }
    case "check": {
      const v = raw as { ca?: string; "ca-fingerprint"?: string; stale?: string };
      // An empty MESH_CA / MESH_CA_FINGERPRINT (an unfilled template) counts as unset.
      const url = v.ca ?? (process.env.MESH_CA || undefined);
      const fingerprint = v["ca-fingerprint"] ?? (process.env.MESH_CA_FINGERPRINT || undefined);
      if ((url === undefined) !== (fingerprint === undefined)) throw new UsageError("meshctl check: --ca and --ca-fingerprint go together");
      const staleMin = Number(v.stale ?? "10");
      if (!(staleMin > 0)) throw new UsageError(`--stale: "${v.stale}" is not a positive number of minutes`);
      const ca = url === undefined ? undefined : { url, fingerprint: fingerprint! };
      const r = await runChecks({ consul, reader: consulReader(consul, process.env.CONSUL_HTTP_TOKEN), listKv: (p) => kv().list(p), prefix, ca, staleMs: staleMin * 60_000 });
      out.print(r.verdicts.map(formatVerdict).join("\n"), { verdicts: r.verdicts, exitCode: r.exitCode });
      process.exitCode = r.exitCode;
      return;
    }
    case "proxy-config": {
      const [id] = rest;
      if (id === undefined || rest.length > 1) throw new UsageError("usage: meshctl proxy-config MEMBER-ID");
      const reader = consulReader(consul, process.env.CONSUL_HTTP_TOKEN);
      const [reports, members] = await Promise.all([reader.reports(), reader.members()]);
      const memberPrefix = kvPrefixOf(reports.find((r) => r.id === id)?.status?.source);
      const p = await proxyConfigOf(id, reports, members, memberPrefix === undefined ? undefined : await kv().list(memberPrefix));
      return out.print(formatProxyConfig(p), p);
    }
    case "explain":
    case "what-if": {
      // Both read the config as `authz check` does; Consul errors keep exit 3, a bad config or flag value exits 1.
      const ctx = { kvItems: () => kv().list(prefix), prefix, consul, token: process.env.CONSUL_HTTP_TOKEN };
      try {
        if (command === "explain") {
          const e = await runExplain(raw as ExplainFlags, ctx);
          out.print(formatExplain(e), e);
          if (e.outcome !== "routed") process.exitCode = 1;
        } else {
          const w = await runWhatIf(raw as WhatIfFlags, ctx);
          out.print(formatWhatIf(w), { changed: hasChanges(w), ...w });
          if (hasChanges(w)) process.exitCode = 1;
        }
        return;
      } catch (err) {
        if (err instanceof ConsulUnreachable || isUsageError(err)) throw err;
        throw new InvalidInput([], err instanceof Error ? err.message : String(err));
      }
    }
    default:
      throw new UsageError(`unknown command "${command}" (meshctl --help lists them)`);
  }
}

/** One exit code per kind of failure (member/cli.ts), the same as the daemons'. */
function exitCodeOf(err: unknown): number {
  if (err instanceof ConsulUnreachable || err instanceof CaUnreachable) return EXIT.unreachable;
  if (isUsageError(err)) return EXIT.usage;
  return EXIT.problem;
}

const json = process.argv.includes("--json");
const out: Out = { json, print: (human, data) => console.log(json ? JSON.stringify(data, null, 2) : human) };
try {
  await run(process.argv.slice(2), out);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  const code = exitCodeOf(err);
  if (json) console.log(JSON.stringify({ error: message, exitCode: code, issues: err instanceof InvalidInput ? err.issues : undefined }));
  else console.error(code === EXIT.usage && !message.includes("--help") ? `${message}\n(meshctl --help for usage)` : message);
  process.exit(code);
}
