// Whole-request timeout filter (Envoy's route timeout): fails with UpstreamError "timeout" if no response in time.
// Covers retries and backoff underneath it; ends when response headers arrive, not when the body finishes.
import type { Filter } from "../types.ts";
import { UpstreamError } from "../types.ts";
import { callWithDeadline } from "./deadline.ts";

export function timeoutFilter(ms: number): Filter {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`timeout must be a positive number of ms, got ${ms}`);
  return (next) => (req, ctx) =>
    callWithDeadline(next, req, ctx, ms, () => new UpstreamError("timeout", `no upstream response within ${ms}ms`));
}
