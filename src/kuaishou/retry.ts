import { KuaishouApiError, RateLimitedError, TimeoutError, TransportError, type KuaishouError } from './errors.ts';

/** When and how often a failed call is sent again. Plain data: log it, diff it, load it from config. */
export interface RetryPolicy {
  /** Resends after the first attempt. */
  retries: number;
  /** Delay before the first resend; doubles on each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Share of each delay taken away at random (0…1), so a fleet of callers does not resend in step. */
  jitter: number;
  /**
   * Also resend calls that are not idempotent (submit audit, release, refresh…) after a timeout or a 5xx,
   * when the platform may already have done them. Off by default: their callers check state instead.
   */
  retryNonIdempotent: boolean;
  /** Platform codes to treat as transient beyond the code table's own. */
  retryCodes: readonly number[];
  /** Platform codes never resent, even when the code table calls them transient. */
  doNotRetryCodes: readonly number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  retries: 3,
  baseDelayMs: 200,
  maxDelayMs: 8_000,
  jitter: 0.25,
  retryNonIdempotent: false,
  retryCodes: [],
  doNotRetryCodes: [],
});

/** Whether `error`, raised by a call that is (or is not) idempotent, deserves another attempt. */
export function shouldRetry(error: KuaishouError, idempotent: boolean, policy: RetryPolicy): boolean {
  if (error instanceof KuaishouApiError && error.code !== null) {
    if (policy.doNotRetryCodes.includes(error.code)) return false;
    if (policy.retryCodes.includes(error.code)) return idempotent || policy.retryNonIdempotent;
  }
  // The platform refused before doing anything: always safe.
  if (error instanceof RateLimitedError) return true;
  if (error instanceof TransportError && error.notSent) return true;
  if (!error.retryable) return false;
  return idempotent || policy.retryNonIdempotent;
}

/** Delay before resend number `retry` (0-based): min(base·2^n, max), minus jitter; honours retry-after. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, error: KuaishouError, random: () => number): number {
  const exponential = Math.min(policy.baseDelayMs * 2 ** retry, policy.maxDelayMs);
  const jittered = exponential * (1 - policy.jitter * random());
  if (error instanceof RateLimitedError && error.retryAfterMs !== undefined) {
    return Math.min(Math.max(jittered, error.retryAfterMs), policy.maxDelayMs);
  }
  return Math.round(jittered);
}

export interface RetryBudgetOptions {
  /** Tokens in a full bucket. */
  capacity: number;
  /** Tokens one resend costs. */
  retryCost: number;
  /** Tokens one resend after a timeout costs (timeouts hint at overload: spend more). */
  timeoutRetryCost: number;
  /** Tokens a call that succeeds at its first attempt gives back. */
  successRefund: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = Object.freeze({
  capacity: 500,
  retryCost: 5,
  timeoutRetryCost: 10,
  successRefund: 1,
});

/**
 * A retry budget (token bucket), shared by every call of one client. Resends spend tokens; successes earn
 * them back. When hundreds of merchants fail at once the bucket empties after ~100 resends and further
 * failures fail fast instead of multiplying the load on a platform that is already struggling.
 */
export class RetryBudget {
  readonly options: RetryBudgetOptions;
  private tokens: number;

  constructor(options: Partial<RetryBudgetOptions> = {}) {
    this.options = { ...DEFAULT_RETRY_BUDGET, ...options };
    this.tokens = this.options.capacity;
  }

  get available(): number {
    return this.tokens;
  }

  costOf(error: KuaishouError): number {
    return error instanceof TimeoutError ? this.options.timeoutRetryCost : this.options.retryCost;
  }

  /** Takes `cost` tokens if there are that many. */
  tryWithdraw(cost: number): boolean {
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** A call succeeded; `spent` is what its resends cost (0 when it succeeded at once). */
  recordSuccess(spent: number): void {
    const refund = spent > 0 ? spent : this.options.successRefund;
    this.tokens = Math.min(this.options.capacity, this.tokens + refund);
  }
}
