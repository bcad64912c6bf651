/**
 * A fixed-window counter per key, bounded in memory (the oldest window is forgotten first), for limits
 * that @fastify/rate-limit's one-allowance-per-address store does not express: the runtime's login route
 * counts per client address AND per merchant. Per instance: N instances allow N times the figure.
 */
export interface WindowVerdict {
  allowed: boolean;
  /** Seconds until the key's window ends (when refused). */
  retryAfterS: number;
}

export class WindowLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    readonly max: number,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `key`. `max` 0: no limit. */
  hit(key: string): WindowVerdict {
    if (this.max <= 0) return { allowed: true, retryAfterS: 0 };
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      this.windows.delete(key);
      window = { startedAt: now, count: 0 };
      if (this.windows.size >= this.maxKeys) {
        const oldest = this.windows.keys().next();
        if (!oldest.done) this.windows.delete(oldest.value);
      }
      this.windows.set(key, window);
    }
    window.count += 1;
    const retryAfterS = Math.max(1, Math.ceil((window.startedAt + this.windowMs - now) / 1000));
    return { allowed: window.count <= this.max, retryAfterS };
  }
}
