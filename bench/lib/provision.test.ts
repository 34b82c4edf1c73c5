// Tests reading a provision script's outcome: the path on the last stdout line, or its last stderr line as the reason.
// That reason becomes the scenario's one-line SKIPPED note.
import { expect, test } from "bun:test";
import { provisionOutcome } from "./provision.ts";

test("the last stdout line is the binary's path", () => {
  expect(provisionOutcome(0, "fetching...\n/repo/.cache/nginx/usr/sbin/nginx\n", "apt noise\n")).toEqual({ path: "/repo/.cache/nginx/usr/sbin/nginx" });
});

test("a failing script gives its last stderr line as the reason", () => {
  expect(provisionOutcome(1, "", "provision-nginx: no nginx binary found. Install nginx\nprovision-nginx: or set NGINX_BIN=/path/to/nginx.\n\n")).toEqual({
    reason: "provision-nginx: or set NGINX_BIN=/path/to/nginx.",
  });
  expect(provisionOutcome(0, "", "")).toEqual({ reason: "exited 0 without a path" });
});
