// Jest's standalone `expect` (npm), plus the few Bun-only matchers our tests use, for the bun:test shim on Deno.
// Matchers keep Bun's meaning: toStartWith/toEndWith take a string and compare the received string's ends.
import { expect, type MatcherContext } from "expect";

function ends(which: "start" | "end") {
  return function (this: MatcherContext, received: unknown, expected: string) {
    const pass = typeof received === "string" && (which === "start" ? received.startsWith(expected) : received.endsWith(expected));
    const verb = which === "start" ? "start with" : "end with";
    return { pass, message: () => `expected ${this.utils.printReceived(received)} ${this.isNot ? "not " : ""}to ${verb} ${this.utils.printExpected(expected)}` };
  };
}

expect.extend({ toStartWith: ends("start"), toEndWith: ends("end") });

export { expect };
