/**
 * Fault injection for the platform routes: latency, 5xx, hangs past the client's timeout, and a rate
 * limit. Decided before the handler runs, so a faulted call changes nothing.
 */
import { MAX_TIMER_MS } from './config.ts';

export interface FaultConfig {
  /** Added to every platform call. */
  latencyMs: number;
  /** Share of calls answered HTTP 500 with the internal-error code. */
  errorRate: number;
  /** Share of calls that hang for `hangMs` and are then dropped. */
  timeoutRate: number;
  /** Calls allowed per second across the platform; 0: unlimited. */
  rateLimitPerSec: number;
  hangMs: number;
}

export const NO_FAULTS: FaultConfig = { latencyMs: 0, errorRate: 0, timeoutRate: 0, rateLimitPerSec: 0, hangMs: 30_000 };

export type FaultDecision = 'none' | 'error' | 'hang' | 'rateLimited';

export class Faults {
  config: FaultConfig = { ...NO_FAULTS };
  private windowStart = 0;
  private windowCount = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** Validates and applies a partial configuration; returns the problem, if any. */
  update(patch: Record<string, unknown>): string | undefined {
    const next = { ...this.config };
    for (const [key, value] of Object.entries(patch)) {
      if (!Object.hasOwn(NO_FAULTS, key)) return `unknown fault setting "${key}"`;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `${key} must be a number ≥ 0`;
      if ((key === 'errorRate' || key === 'timeoutRate') && value > 1) return `${key} must be between 0 and 1`;
      if ((key === 'latencyMs' || key === 'hangMs') && value > MAX_TIMER_MS) return `${key} must be at most ${MAX_TIMER_MS}`;
      next[key as keyof FaultConfig] = value;
    }
    if (next.errorRate + next.timeoutRate > 1) return 'errorRate + timeoutRate must not exceed 1';
    this.config = next;
    return undefined;
  }

  decide(now = Date.now()): FaultDecision {
    const { rateLimitPerSec, errorRate, timeoutRate } = this.config;
    if (rateLimitPerSec > 0) {
      if (now - this.windowStart >= 1000) {
        this.windowStart = now;
        this.windowCount = 0;
      }
      if (++this.windowCount > rateLimitPerSec) return 'rateLimited';
    }
    if (errorRate === 0 && timeoutRate === 0) return 'none';
    const roll = this.random();
    if (roll < errorRate) return 'error';
    if (roll < errorRate + timeoutRate) return 'hang';
    return 'none';
  }
}
