/**
 * Prometheus metrics in text exposition format, without a client library: a few labelled counters.
 * HTTP requests, upstream (Kuaishou) calls by operation and result, token refreshes, pushes by event and
 * outcome, and how many pushes each commit stored.
 */
type Labels = Record<string, string>;

class Counter {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels, by = 1): void {
    const key = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [labels, value] of this.values) lines.push(`${this.name}${labels ? `{${labels}}` : ''} ${value}`);
    return lines.join('\n');
  }
}

export class Metrics {
  readonly httpRequests = new Counter('ksisv_http_requests_total', 'HTTP requests by route, method and status.');
  readonly upstreamCalls = new Counter('ksisv_upstream_calls_total', 'Kuaishou platform calls by operation and result.');
  readonly tokenRefreshes = new Counter('ksisv_token_refreshes_total', 'Token refresh calls by kind.');
  readonly pushes = new Counter('ksisv_pushes_total', 'Pushes received by event and outcome.');
  readonly pushCommits = new Counter('ksisv_push_commits_total', 'Commits that stored pushes (group commit: pushes arriving together share one).');
  readonly pushesCommitted = new Counter('ksisv_push_commit_pushes_total', 'New pushes stored by those commits (not resends); divided by ksisv_push_commits_total, about the mean batch.');

  render(): string {
    return `${[this.httpRequests, this.upstreamCalls, this.tokenRefreshes, this.pushes, this.pushCommits, this.pushesCommitted].map((c) => c.render()).join('\n')}\n`;
  }
}
