// Test fixture shared by the upstream unit tests: builds Endpoint values with sensible defaults.
// Kept out of the production modules so they stay free of test helpers.
import type { Endpoint } from "../../shared/types.ts";

export function endpoint(id: string, extra: { tags?: string[]; meta?: Record<string, string>; port?: number } = {}): Endpoint {
  return { id, address: "127.0.0.1", port: extra.port ?? 9000, tags: extra.tags ?? [], meta: extra.meta ?? {} };
}
