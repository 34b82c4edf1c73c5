// Files only their owner may read: a directory made 0700 and files written 0600 by temp file + rename, so a crash
// leaves the old content or the new, never half of it. node:fs, so the same code runs on Bun and Deno.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const joinPath = join;
/** Relative paths are taken from the working directory, once, so logs and later writes name the same place. */
export const absolutePath = (p: string): string => resolve(p);

/** Creates `dir` (and parents) and makes it 0700; an existing directory is tightened too. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Atomically replaces `path` with `text`, mode 0600, creating its directory 0700 when missing. */
export function writePrivateFile(path: string, text: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) ensurePrivateDir(dir);
  const tmp = join(dir, `.${Date.now()}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600); // the umask can only take bits away, but be explicit
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The file's text, or undefined when it does not exist (any other error is thrown). */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Permission bits of a file or directory (0o600, 0o700, ...), or undefined when it does not exist. */
export function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}
