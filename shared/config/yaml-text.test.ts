// Differential tests of readYaml: whichever path reads a text, the data is what the `yaml` library alone makes of it,
// and errors are `yaml`'s, with line:col. The cases are the corners where YAML readers are known to differ.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { readPlainYaml, readYaml } from "./yaml-text.ts";

/** The reference: the `yaml` library alone, as parse.ts used it before the fast path. */
function reference(text: string): { ok: true; data: unknown } | { ok: false } {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false };
  try {
    return { ok: true, data: doc.toJS() };
  } catch {
    return { ok: false };
  }
}

/** Both readers agree on `text`; returns whether the fast path read it. */
async function same(text: string): Promise<boolean> {
  const got = await readYaml(text);
  const want = reference(text);
  expect(got.ok).toBe(want.ok);
  if (got.ok && want.ok) expect(got.data).toEqual(want.data);
  const plain = readPlainYaml(text);
  if (plain !== undefined) expect(want).toEqual({ ok: true, data: plain.data });
  return plain !== undefined;
}

/** Cases the fast path must take (the others must fall back): so the comparison is not one path against itself. */
const PLAIN = new Set([
  "YAML 1.1 booleans are strings", "core ints and floats", "nulls and booleans, case", "timestamps stay strings",
  "__proto__ and Object.prototype names are plain keys", "scalar keys of other types", "<< without an alias",
  "explicit document markers", "a byte order mark", "CRLF", "block scalars and chomping", "escapes",
  "folded quoted and plain scalars", "flow collections", "comments", "JSON", "top-level list and scalars", "a big integer",
  "not quite numbers",
]);

const CASES: Record<string, string> = {
  "YAML 1.1 booleans are strings": "a: yes\nb: no\nc: on\nd: off\ne: y\n",
  "a %YAML 1.1 directive switches schema": "%YAML 1.1\n---\na: yes\nb: 0755\n",
  "%YAML 1.2": "%YAML 1.2\n---\na: yes\n",
  "core ints and floats": "a: 0755\nb: 0o17\nc: 0x1F\nd: 1_000\ne: 0b101\nf: +12\ng: -0\nh: 1e3\ni: .5\nj: 1.\nk: +.inf\nl: -.Inf\nn: 12:30\no: 00012\np: -1.5e-3\nq: 0x\nr: 9007199254740993\n",
  "nulls and booleans, case": "a: ~\nb: null\nc: Null\nd: NULL\ne: nUll\nf:\ng: True\nh: TRUE\ni: tRUE\nj: False\n",
  "timestamps stay strings": "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\n",
  "explicit tags": "a: !!str 123\nb: !!int \"3\"\nc: !!float 1\nd: !!null ''\n",
  "YAML 1.1 tags": "a: !!binary aGVsbG8=\nb: !!set {x, y}\n",
  "a local tag": "a: !foo bar\n",
  "__proto__ and Object.prototype names are plain keys": "__proto__: {x: 1}\nconstructor: 1\ntoString: 2\n",
  "complex keys": "? [a, b]\n: 1\n",
  "scalar keys of other types": "1: a\n2.5: b\ntrue: c\n",
  "anchors and aliases": "a: &x {b: 1}\nc: *x\n",
  "a merge key is a plain key in YAML 1.2": "a: &x {b: 1}\n<<: *x\n",
  "<< without an alias": "<<: {b: 1}\n",
  "explicit document markers": "---\na: 1\n...\n",
  "a byte order mark": "\ufeffa: 1\n",
  "CRLF": "a: 1\r\nb: 2\r\n",
  "block scalars and chomping": "a: |\n  x\n  y\n\nb: >-\n  x\n  y\nc: |+\n  z\n\n",
  "escapes": 'a: "\\u00e9\\x41\\N\\_\\L\\P\\0\\a\\e\\/"\nb: \'\\n\'\n',
  "folded quoted and plain scalars": "a: 'it''s'\nb: \"multi\n  line\"\nc: plain\n  continued\n",
  "flow collections": "a: [1, 2, {b: c}]\nd: {e: [f]}\ng: {x: 1, y}\nh: [x: 1]\n",
  "comments": "a: 1 # comment\n# c\nb: 'x' #c\n",
  "JSON": '{"a": 1, "b": [true, null, 1.5, "x"], "c": {"d": "\\u00e9"}}',
  "top-level list and scalars": "- a\n- b\n",
  "a big integer": "a: 123456789012345678901234567890\n",
  "not quite numbers": "a: 0o8\nb: 0xG\nc: 08\nd: 09.5\ne: 1_0\nf: 0B1\ng: 0X1f\nh: 190:20:30.15\n",
  "deep nesting": `${"[".repeat(150)}${"]".repeat(150)}\n`,
  // errors: both paths must refuse them
  "duplicate keys": "a: 1\na: 2\n",
  "duplicate keys in flow": '{"a": 1, "a": 2}',
  "two documents": "a: 1\n---\nb: 2\n",
  "empty": "",
  "only a comment": "# only\n",
  "tab indentation": "a:\n\t- 1\n",
  "nested compact mapping": "a: b: c\n",
  "unclosed flow": "a: [1, 2\n",
  "unclosed quote": "a: 'x\n",
  "reserved indicator": "a: @x\n",
  "alias bomb": `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`).join("\n")}\n`,
};

describe("readYaml reads every text as the yaml library does", () => {
  for (const [name, text] of Object.entries(CASES)) {
    test(name, async () => expect(await same(text)).toBe(PLAIN.has(name)));
  }

  test("the shipped examples and the bench's many-routes shape, all on the fast path", async () => {
    for (const name of ["demo.yaml", "echo-50-50.yaml", "resilience.yaml", "resilience-fault.yaml"]) {
      expect(await same(readFileSync(new URL(`../../deploy/examples/${name}`, import.meta.url), "utf8"))).toBe(true);
    }
    const routes = Array.from({ length: 50 }, (_, i) => `  - name: r${i}\n    match: { host: [api], path: { prefix: "/r${i}/" } }\n    action:\n      destinations:\n        - service: echo\n          weight: ${i + 1}\n`);
    expect(await same(`services:\n  echo: { instances: [{ id: a, address: 10.0.0.1, port: 8080, tags: [v1], meta: { zone: "a:b" } }] }\nroutes:\n${routes.join("")}`)).toBe(true);
  });
});

describe("errors", () => {
  test("syntax errors are yaml's, with line:col", async () => {
    const r = await readYaml("services:\n  echo: {\n  bad: [1, 2\n");
    expect(r.ok).toBe(false);
    if (!r.ok) for (const m of r.messages) expect(m).toMatch(/^YAML syntax error at \d+:\d+: /);
    expect(await readYaml("namespace: a\nnamespace: b\n")).toEqual({ ok: false, messages: ["YAML syntax error at 2:1: Map keys must be unique"] });
  });
  test("an alias bomb is refused by yaml's alias limit", async () => {
    const r = await readYaml(CASES["alias bomb"]!);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.messages[0]).toMatch(/^YAML error: .*alias/i);
  });
  test("an empty text is null, as before (parse.ts refuses it as empty)", async () => {
    expect(await readYaml("")).toEqual({ ok: true, data: null });
    expect(await readYaml("# nothing\n")).toEqual({ ok: true, data: null });
  });
});

test("a float too large for a double: the one known difference (now a string the schema refuses in a number field)", async () => {
  expect(await readYaml("a: 1e400\n")).toEqual({ ok: true, data: { a: "1e400" } });
  expect(reference("a: 1e400\n")).toEqual({ ok: true, data: { a: Infinity } });
});
