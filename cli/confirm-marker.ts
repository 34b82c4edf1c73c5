// meshctl's deliberate ways to shrink a mesh, through the `<prefix>confirmed` marker members obey: teardown (every
// document gone, an empty mesh on purpose), apply --confirm (fewer documents on purpose), and its removal by apply.
import { hostname, userInfo } from "node:os";
import { stringify } from "yaml";
import { CONFIRM_DOCUMENT, isConfigDocument } from "../shared/config/kv-documents.ts";
import type { KvItem, kvClient } from "./consul-kv.ts";

type Kv = ReturnType<typeof kvClient>;

function who(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname(); // no passwd entry for this uid (some containers)
  }
}

function markerBody(action: string, documents: number, reason: string | undefined): string {
  const head = "# Written by meshctl: members apply this prefix as it is, even empty or smaller than before. meshctl apply removes it.\n";
  return head + stringify({ action, documents, at: new Date().toISOString(), by: who(), reason: reason ?? "" });
}

/** Deletes every key under the prefix and writes the marker in one transaction. */
export async function teardown(kv: Kv, prefix: string, reason: string | undefined): Promise<{ marker: string; deleted: string[] }> {
  const deleted = (await kv.list(prefix)).map((i) => i.key).filter((k) => isConfigDocument(k, prefix));
  const marker = `${prefix}${CONFIRM_DOCUMENT}`;
  // One transaction, so members never see the empty prefix without the marker (which they would hold, not apply).
  await kv.txn([{ Verb: "delete-tree", Key: prefix }, { Verb: "set", Key: marker, Value: markerBody("teardown", 0, reason) }]);
  return { marker, deleted };
}

/** Written after apply's documents, so members take this (smaller) set although they are holding a bigger one. */
export async function confirm(kv: Kv, prefix: string, documents: number, reason: string | undefined): Promise<string> {
  const marker = `${prefix}${CONFIRM_DOCUMENT}`;
  const current = (await kv.list(marker)).find((i) => i.key === marker);
  if (!(await kv.put(marker, markerBody("apply --confirm", documents, reason), current?.modifyIndex ?? 0))) throw new Error(`${marker} changed while confirming; run meshctl apply --confirm again`);
  return marker;
}

/** After a plain apply wrote its documents: the mesh is no longer meant to be empty or smaller, so protection is back. */
export async function removeMarker(kv: Kv, prefix: string, current: KvItem[]): Promise<string | undefined> {
  const marker = current.find((i) => i.key === `${prefix}${CONFIRM_DOCUMENT}`);
  if (marker === undefined) return undefined;
  if (!(await kv.delete(marker.key, marker.modifyIndex))) throw new Error(`${marker.key} changed while applying; documents were written but the marker stays — run meshctl apply again`);
  return marker.key;
}

/** Said after a delete that left no config document: members hold their last good config rather than go empty. */
export async function lastDocumentNote(kv: Kv, prefix: string): Promise<string | undefined> {
  const left = await kv.list(prefix);
  if (left.some((i) => isConfigDocument(i.key, prefix) || i.key === `${prefix}${CONFIRM_DOCUMENT}`)) return undefined;
  return `note: that was the last config document under ${prefix}. Members keep serving their last good config (an empty prefix is never applied); for an empty mesh on purpose run: meshctl teardown --yes`;
}
