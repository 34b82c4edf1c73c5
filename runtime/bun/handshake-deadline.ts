// Closes TLS sockets whose handshake has not finished within a deadline. Bun's socket.timeout() does not fire before
// a TLS handshake completes (tried on 1.4.4), so without this a silent or half-sent ClientHello holds a socket forever.

type Closable = { terminate(): void };

export type HandshakeDeadline = { add(s: Closable): void; done(s: Closable): void; stop(): void };

export function createHandshakeDeadline(ms: number, onExpired: (s: Closable) => void): HandshakeDeadline {
  const pending = new Map<Closable, number>();
  // One sweep per listener rather than a timer per connection; a deadline is met to within a quarter of itself.
  const sweep = setInterval(() => {
    if (pending.size === 0) return;
    const now = performance.now();
    for (const [s, at] of pending) {
      if (now - at < ms) continue;
      pending.delete(s);
      onExpired(s);
    }
  }, Math.max(25, Math.min(1000, ms / 4)));
  (sweep as { unref?: () => void }).unref?.();
  return {
    add: (s) => void pending.set(s, performance.now()),
    done: (s) => void pending.delete(s),
    stop: () => {
      clearInterval(sweep);
      pending.clear();
    },
  };
}
