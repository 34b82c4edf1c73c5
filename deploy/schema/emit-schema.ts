// JSON Schema for mesh config files (editor completion, CI checks), generated from the valibot model.
// `bun run shared/config/emit-schema.ts` rewrites deploy/schema/mesh.schema.json; a test fails if it drifts.
import { toJsonSchema } from "@valibot/to-json-schema";
import { MeshConfig } from "../../shared/config/schema.ts";

export const SCHEMA_ID = "urn:vm-mesh:schema:mesh-config";

/** Where the committed copy lives, relative to this file. */
export const SCHEMA_FILE_URL = new URL("../../deploy/schema/mesh.schema.json", import.meta.url);

export function meshJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(MeshConfig, { target: "draft-07", errorMode: "throw" });
  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: SCHEMA_ID,
    title: "vm-mesh config",
    description:
      "A whole mesh in one document: services and their instances, mesh routes, the gateway, limits. " +
      "Structure only: cross-references, regex validity and unimplemented policy kinds are checked by `parseMeshConfig`. See docs/config.md.",
    ...rest,
  };
}

/** The exact bytes of the committed file: stable key order, two-space indent, trailing newline. */
export function meshJsonSchemaText(): string {
  return JSON.stringify(meshJsonSchema(), null, 2) + "\n";
}

if (import.meta.main) {
  // A build-time script, not runtime code: the one place outside file-provider.ts that writes a file.
  const { writeFile } = await import("node:fs/promises");
  await writeFile(SCHEMA_FILE_URL, meshJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE_URL.pathname}`);
}
