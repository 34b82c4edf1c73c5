// Tests for issue paths and their one-line text, which users grep their YAML with.
// Record keys read `.key`, list items `[i]`, the whole document `(root)`.
import { describe, expect, test } from "bun:test";
import { formatIssue, formatPath } from "./issues.ts";

describe("formatPath", () => {
  test("dots for keys, brackets for indexes", () => {
    expect(formatPath(["routes", 3, "match", "path", "regex"])).toBe("routes[3].match.path.regex");
    expect(formatPath(["services", "echo", "policy", "fault"])).toBe("services.echo.policy.fault");
  });
  test("empty path is (root); odd keys are quoted", () => {
    expect(formatPath([])).toBe("(root)");
    expect(formatPath(["services", "a b"])).toBe('services["a b"]');
  });
});

test("formatIssue joins source, path and message", () => {
  expect(formatIssue({ source: "demo.yaml", path: "routes[3].match.path.regex", message: "invalid regular expression (Unterminated group)" })).toBe(
    "demo.yaml: routes[3].match.path.regex: invalid regular expression (Unterminated group)",
  );
});
