/** Counts of platform calls, per operation and per mini-program, for tests that prove "at most once". */
export interface CallCount {
  /** Requests that reached the platform (faulted ones included). */
  calls: number;
  /** Requests answered `result: 1`. */
  ok: number;
  /** Requests answered by an injected fault. */
  faulted: number;
}

export interface CallCounts {
  total: CallCount;
  byOperation: Record<string, CallCount>;
  byApp: Record<string, Record<string, CallCount>>;
}

const zero = (): CallCount => ({ calls: 0, ok: 0, faulted: 0 });

export class CallCounter {
  private counts: CallCounts = { total: zero(), byOperation: {}, byApp: {} };

  record(operation: string, appId: string | undefined, outcome: 'ok' | 'error' | 'faulted'): void {
    const bump = (count: CallCount): void => {
      count.calls++;
      if (outcome === 'ok') count.ok++;
      if (outcome === 'faulted') count.faulted++;
    };
    bump(this.counts.total);
    bump((this.counts.byOperation[operation] ??= zero()));
    if (appId) bump(((this.counts.byApp[appId] ??= {})[operation] ??= zero()));
  }

  snapshot(): CallCounts {
    return structuredClone(this.counts);
  }

  reset(): void {
    this.counts = { total: zero(), byOperation: {}, byApp: {} };
  }
}
