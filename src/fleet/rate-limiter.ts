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
 * A token bucket for platform calls: at most `perSecond` on average, bursts up to `burst`. Waiting calls
 * are served by priority, in order within one priority.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly waiting: (() => void)[][] = [[], [], []];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly burst = Math.max(1, Math.ceil(perSecond / 10)),
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = this.burst;
    this.last = now();
  }

  /** Resolves when one call may go. */
  acquire(priority: CallPriority = 'step'): Promise<void> {
    if (this.perSecond <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiting[ORDER[priority]]!.push(resolve);
      this.serve();
    });
  }

  /** Calls waiting for a token now. */
  get queued(): number {
    return this.waiting.reduce((sum, queue) => sum + queue.length, 0);
  }

  /** Hands out the tokens there are, highest priority first; when calls still wait, sleeps until the next token. */
  private serve(): void {
    if (this.timer !== undefined) return; // the timer serves them
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    for (const queue of this.waiting) {
      while (queue.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        queue.shift()!();
      }
    }
    if (this.queued > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.serve();
      }, Math.max(1, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)));
    }
  }
}
