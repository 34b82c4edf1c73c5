// Semantic checks for a Policy block wherever it appears (service, route, gateway route).
// Kinds that have a slot in the schema but no implementation are refused loudly rather than ignored.
import type { PolicyConfig } from "./schema.ts";
import { parseDuration } from "./duration.ts";

export type Report = (path: string, message: string) => void;

/** Policy kinds accepted by the schema (so the shape is stable) but not enforced by the runtime yet. */
export const UNIMPLEMENTED_POLICY_KINDS = {
  concurrency: "concurrency limits are",
  outlierDetection: "outlier detection is",
  fault: "fault injection is",
  rateLimit: "rate limiting is",
  circuitBreaker: "circuit breaking is",
} as const;

export function validatePolicy(policy: PolicyConfig, path: string, report: Report): void {
  for (const [kind, what] of Object.entries(UNIMPLEMENTED_POLICY_KINDS)) {
    // `fault:` with no value parses to null: the user still asked for it, so it still counts.
    if (Object.hasOwn(policy, kind) && policy[kind as keyof PolicyConfig] !== undefined) {
      report(`${path}.${kind}`, `${what} not implemented yet; remove it (it would otherwise be silently ignored)`);
    }
  }
  const retries = policy.retries;
  if (retries?.perTryTimeout !== undefined && policy.timeout !== undefined) {
    if (parseDuration(retries.perTryTimeout) > parseDuration(policy.timeout)) {
      report(
        `${path}.retries.perTryTimeout`,
        `${retries.perTryTimeout} exceeds the policy timeout ${policy.timeout}; each try must fit in the overall timeout`,
      );
    }
  }
}
