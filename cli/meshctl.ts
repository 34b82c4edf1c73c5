// meshctl: validate a mesh file, and apply / diff / get / delete its documents in Consul KV, or tear the mesh down.
// Exit codes: 0 success, 1 invalid input (file:path: reason), 2 Consul unreachable. --json for machines.
import { parseArgs } from "node:util";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { formatIssue, type ConfigIssue } from "../shared/config/issues.ts";
import { splitIntoKvDocuments } from "../shared/config/kv-split.ts";
import { CONFIRM_DOCUMENT, documentSizeMessage, parseMaxDocumentBytes } from "../shared/config/kv-documents.ts";
import { consulAddr, kvPrefix } from "../member/flags.ts";
import { ConsulUnreachable, kvClient, meshStatus, type KvItem } from "./consul-kv.ts";
import { confirm, lastDocumentNote, removeMarker, teardown } from "./confirm-marker.ts";
import { authzCheck, formatCheck, loadConfig } from "./authz-check.ts";
import { runToken, TOKEN_USAGE } from "./token.ts";
import { CA_USAGE, runCa } from "./ca-rotate.ts";

const USAGE = `usage: meshctl <command> [--consul ADDR] [--prefix mesh/] [--json]
  validate -f FILE          check a mesh file (the same model as the sidecar's --config)
  apply -f FILE [--dry-run] validate, then write each document to Consul KV with check-and-set
        [--confirm]         ... and write <prefix>confirmed: members take this set even if it has fewer documents
                            than they hold (after a loss); a plain apply removes that marker
  diff -f FILE              what apply would change
  get [KIND [NAME]]         list documents, or print one (KIND: settings, services, routes, gateway)
  delete KIND NAME          remove one document
  teardown --yes [--reason TEXT]
                            delete every document and write <prefix>confirmed: members apply an empty mesh (an
                            empty prefix without it is held as lost config); a plain apply removes the marker
  status                    every registered sidecar and gateway: health and the config it has applied
  authz check [--from SVC|SPIFFE-ID] --to SVC METHOD PATH [-H 'k: v']... [-f FILE]
                            the verdict of SVC's inbound authorization and the rule that decided it (exit 1 = deny),
                            against the live config in KV (or FILE); without --from (or --from unauthenticated): a
                            plaintext caller of a permissive service, which has no identity
  --max-document-bytes N    per-document limit checked by validate/apply/diff (default 524288, or MESH_KV_MAX_DOCUMENT_BYTES)
${TOKEN_USAGE}
${CA_USAGE}`;

class InvalidInput extends Error {
  constructor(readonly issues: ConfigIssue[], message?: string) {
    super(message ?? issues.map(formatIssue).join("\n"));
  }
}

type Out = { json: boolean; print(human: string, data: unknown): void };

async function load(file: string | undefined): Promise<Map<string, string>> {
  if (file === undefined) throw new InvalidInput([], "-f FILE is required");
  const f = Bun.file(file);
  if (!(await f.exists())) throw new InvalidInput([{ source: file, path: "(root)", message: "file not found" }]);
  const parsed = parseMeshConfig(await f.text(), file);
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

async function run(argv: string[], out: Out): Promise<void> {
  // Join tokens talk to the CA, not Consul, and have flags of their own.
  if (argv[0] === "token") return runToken(argv.slice(1), out);
  if (argv[0] === "ca") return runCa(argv.slice(1), out);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: "string", short: "f" }, "dry-run": { type: "boolean" }, json: { type: "boolean" }, consul: { type: "string" }, prefix: { type: "string" },
      help: { type: "boolean", short: "h" }, yes: { type: "boolean" }, confirm: { type: "boolean" }, reason: { type: "string" }, "max-document-bytes": { type: "string" },
      from: { type: "string" }, to: { type: "string" }, header: { type: "string", short: "H", multiple: true },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) return out.print(USAGE, { usage: USAGE });
  const prefix = kvPrefix(values.prefix ?? process.env.MESH_KV_PREFIX);
  const consul = consulAddr(values.consul ?? process.env.CONSUL_HTTP_ADDR) ?? "http://127.0.0.1:8500";
  const kv = () => kvClient(consul, process.env.CONSUL_HTTP_TOKEN);
  const maxBytes = (): number => {
    try {
      const flag = values["max-document-bytes"];
      return flag === undefined ? parseMaxDocumentBytes(process.env.MESH_KV_MAX_DOCUMENT_BYTES) : parseMaxDocumentBytes(flag, "--max-document-bytes");
    } catch (err) {
      throw new InvalidInput([], err instanceof Error ? err.message : String(err));
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
      if (kind === undefined || (kind !== "settings" && name === undefined)) throw new InvalidInput([], "usage: meshctl delete KIND NAME");
      const key = kind === "settings" ? `${prefix}settings` : `${prefix}${kind}/${name}`;
      const client = kv();
      await client.delete(key);
      const note = await lastDocumentNote(client, prefix);
      if (note !== undefined && !out.json) console.error(note);
      return out.print(`deleted ${key}`, { deleted: key, note });
    }
    case "teardown": {
      if (values.yes !== true) throw new InvalidInput([], `teardown deletes every document under ${prefix} and members then serve an empty mesh; run again with --yes`);
      const { marker, deleted } = await teardown(kv(), prefix, values.reason);
      return out.print(`torn down: ${deleted.length} documents deleted; ${marker} written, members apply an empty mesh`, { deleted, marker });
    }
    case "status": {
      const members = await meshStatus(consul, process.env.CONSUL_HTTP_TOKEN);
      const rows = members.map((m) => `${m.kind.padEnd(8)} ${m.service.padEnd(12)} ${m.id.padEnd(22)} ${m.address.padEnd(21)} ${m.health.padEnd(9)} config ${m.config} (${m.source})`);
      return out.print(rows.join("\n") || "(no registered sidecars or gateways)", members);
    }
    case "authz": {
      // authz check --from web --to echo GET /path [-H 'k: v'] [-f FILE]: the live config from KV unless -f is given.
      const [sub, method, target] = rest;
      if (sub !== "check" || method === undefined || target === undefined || values.to === undefined) {
        throw new InvalidInput([], "usage: meshctl authz check [--from SERVICE|SPIFFE-ID] --to SERVICE METHOD PATH [-H 'name: value']... [-f FILE]");
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
    default:
      throw new InvalidInput([], `unknown command "${command}"\n${USAGE}`);
  }
}

const json = process.argv.includes("--json");
const out: Out = { json, print: (human, data) => console.log(json ? JSON.stringify(data, null, 2) : human) };
try {
  await run(process.argv.slice(2), out);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (json) console.log(JSON.stringify({ error: message, issues: err instanceof InvalidInput ? err.issues : undefined }));
  else console.error(message);
  process.exit(err instanceof ConsulUnreachable ? 2 : 1);
}
