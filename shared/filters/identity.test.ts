// Unit tests of the inbound identity filter: the app learns its caller from the verified peer only; a caller without
// an identity reaches it with no identity header, and cannot use the mesh's own header notes.
import { describe, expect, test } from "bun:test";
import { ABSENT_HEADER, CLIENT_ID_HEADER, identityFilter } from "./identity.ts";
import { makeContext } from "../../test/support/filter-context.ts";

const WEB = "spiffe://mesh.local/ns/default/svc/web";

async function seenBy(peer: string | undefined, headers: Record<string, string>): Promise<Headers> {
  let seen = new Headers();
  const f = identityFilter()(async (req) => {
    seen = req.headers;
    return new Response("ok");
  });
  const ctx = makeContext();
  ctx.peer = peer;
  await f(new Request("http://echo/", { headers }), ctx);
  return seen;
}

describe("identityFilter", () => {
  test("a verified peer: the header is its SPIFFE id, whatever the caller sent; its absent-header note is applied", async () => {
    const h = await seenBy(WEB, { [CLIENT_ID_HEADER]: "spiffe://mesh.local/ns/default/svc/admin", [ABSENT_HEADER]: "user-agent", "user-agent": "Bun/1.4.4" });
    expect(h.get(CLIENT_ID_HEADER)).toBe(WEB);
    expect(h.has("user-agent")).toBe(false);
    expect(h.has(ABSENT_HEADER)).toBe(false);
  });
  test("no identity (plaintext): a claimed identity is removed, and the absent-header note is dropped unapplied", async () => {
    const h = await seenBy(undefined, { [CLIENT_ID_HEADER]: WEB, [ABSENT_HEADER]: "user-agent, accept", "user-agent": "curl/8", accept: "*/*" });
    expect(h.has(CLIENT_ID_HEADER)).toBe(false);
    expect(h.has(ABSENT_HEADER)).toBe(false);
    expect(h.get("user-agent")).toBe("curl/8");
    expect(h.get("accept")).toBe("*/*");
  });
});
