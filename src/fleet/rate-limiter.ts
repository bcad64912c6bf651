/**
 * Which calls go first when several wait for the rate limit: `finish` (a call that completes a merchant's
 * rollout: release, rollback), then `step` (a call in the middle of a step: submit for audit, reads, domain
 * changes), then `start` (a call that starts new work: upload). Serving finishing calls first frees a
 * rollout's in-flight slots sooner, so new uploads keep coming without a batch's uploads all going before
 * its submissions.
 */
export type CallPriority = 'finish' | 'step' | 'start';

const ORDER: Record<CallPriority, number> = { finish: 0, step: 1, start: 2 };

/**
 * Platform calls at most `perSecond` on average, bursts up to `burst`, and never more than `perSecond` in
 * any 1,000 ms (the window the platform counts in). Waiting calls are served by priority, in order within
 * one priority.
 *
 * A token bucket alone loses capacity whenever this process runs late (a busy event loop, a starved CPU):
 * a timer meant to fire in 10 ms fires in 150 ms, and a bucket capped at `burst` drops what it could not
 * hold. Here, while calls wait, the bucket holds up to a second's worth and the tokens of the late time are
 * spent at once, bounded by the window, so the calls of any second stay at most `perSecond` (a plain bucket
 * allowed `perSecond + burst`). A call to an idle limiter finds at most `burst` tokens: idle time is not
 * demand that was held back.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly waiting: (() => void)[][] = [[], [], []];
  private timer: NodeJS.Timeout | undefined;
  /** When the last `window` calls went, oldest first from `next` (a ring). */
  private readonly sent: number[];
  private next = 0;

  constructor(
    /** Calls per second; 0 or less: no limit. */
    readonly perSecond: number,
    private readonly burst = Math.max(1, Math.ceil(perSecond / 10)),
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = this.burst;
    this.last = now();
    this.sent = new Array<number>(Math.max(1, Math.floor(perSecond))).fill(-Infinity);
  }

  /** Resolves when one call may go. */
  acquire(priority: CallPriority = 'step'): Promise<void> {
    if (this.perSecond <= 0) return Promise.resolve();
    const idle = this.queued === 0;
    return new Promise<void>((resolve) => {
      this.waiting[ORDER[priority]]!.push(resolve);
      this.serve(idle);
    });
  }

  /** Calls waiting for a token now. */
  get queued(): number {
    return this.waiting.reduce((sum, queue) => sum + queue.length, 0);
  }

  /** Hands out the tokens there are, highest priority first; when calls still wait, sleeps until the next may go. */
  private serve(idle = false): void {
    if (this.timer !== undefined) return; // the timer serves them
    const now = this.now();
    const cap = idle ? this.burst : Math.max(this.burst, this.perSecond);
    this.tokens = Math.min(cap, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    for (const queue of this.waiting) {
      while (queue.length > 0 && this.tokens >= 1 && this.sent[this.next]! <= now - 1000) {
        this.tokens -= 1;
        this.sent[this.next] = now;
        this.next = (this.next + 1) % this.sent.length;
        queue.shift()!();
      }
    }
    if (this.queued > 0) {
      const forToken = ((1 - this.tokens) / this.perSecond) * 1000;
      const forWindow = this.sent[this.next]! + 1000 - now;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.serve();
      }, Math.max(1, Math.ceil(Math.max(forToken, forWindow))));
    }
  }
}

/**
 * `port` with every method made to wait for `before()` first (the instance's rate limit for calls that
 * are not a rollout step's: an operator's operations, template syncs). Properties that are not functions
 * (e.g. `tokens`) pass through untouched.
 */
export function throttledPort<T extends object>(port: T, before: () => Promise<void>): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'constructor') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        await before();
        return (value as (...callArgs: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
