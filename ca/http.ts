// Small HTTP helpers the CA's two listeners share: JSON answers in one error shape ({ error, message }), a bounded
// JSON body reader, and the CA's JSON log line.

export const MAX_BODY_BYTES = 64 * 1024;

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Every refusal has a machine-readable `error` and a sentence for people in `message`. */
export function refuse(status: number, error: string, message: string): Response {
  return json(status, { error, message });
}

/** The body as a JSON object, or the Response to send instead (413, 400). */
export async function readJsonObject(req: Request): Promise<Record<string, unknown> | Response> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return refuse(413, "body-too-large", `body larger than ${MAX_BODY_BYTES} bytes`);
  let raw: string;
  try {
    raw = await req.text();
  } catch {
    return refuse(413, "body-too-large", `body larger than ${MAX_BODY_BYTES} bytes or not received in time`);
  }
  if (raw.length > MAX_BODY_BYTES) return refuse(413, "body-too-large", `body larger than ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return refuse(400, "bad-request", "body must be JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return refuse(400, "bad-request", "body must be a JSON object");
  return body as Record<string, unknown>;
}

export type CaLog = (level: "info" | "warn" | "error" | "fatal", msg: string, fields?: Record<string, unknown>) => void;

export const caLog: CaLog = (level, msg, fields = {}) => {
  const line = JSON.stringify({ level, time: new Date().toISOString(), service: "ca", msg, ...fields });
  if (level === "info") console.log(line);
  else console.error(line);
};
