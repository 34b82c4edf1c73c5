// Refuses to run a STRICT mesh member in an environment that switches certificate checks off.
// Every member calls it before it joins; the inbound listener calls it again before it binds.

export function assertStrictTlsEnvironment(): void {
  // Bun issue #35240: this variable switches off client-certificate enforcement on TLS listeners.
  if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === "0") {
    throw new Error("refusing to start a STRICT mTLS listener: NODE_TLS_REJECT_UNAUTHORIZED=0 is set and would disable client-certificate checks");
  }
}
