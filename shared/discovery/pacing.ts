// Pacing for watch loops: a token bucket that caps request rate, full-jitter backoff, and an abortable sleep.
// Consul asks blocking-query clients to rate-limit with a token bucket (bursts allowed) rather than a fixed sleep.

/** Sleeps `ms`, or resolves early (never rejects) when `signal` aborts, so loops can exit promptly. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^(failures-1))). */
export function backoffDelay(failures: number, random: () => number, baseMs = 100, capMs = 10_000): number {
  if (failures < 1) return 0;
  // Past ~2^30 the exponent only overflows; the cap has long been reached.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.floor(random() * ceiling);
}

/** A token bucket holding up to `burst` tokens, refilled by one every `intervalMs`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    if (this.intervalMs <= 0) {
      this.tokens = this.burst;
    } else {
      this.tokens = Math.min(this.burst, this.tokens + (t - this.last) / this.intervalMs);
    }
    this.last = t;
  }

  /** Waits until a token is available and takes it; returns early without a token if `signal` aborts. */
  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      if (signal.aborted) return;
      await sleep(Math.ceil((1 - this.tokens) * this.intervalMs), signal);
    }
  }
}
