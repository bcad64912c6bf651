/**
 * The service's Prometheus metrics, on prom-client, in a registry of the service's own: tests run many
 * services in one process, and prom-client's global registry would make them share (and refuse) names.
 * Counters and histograms are updated on the hot paths through label children made once per label set;
 * the fleet's gauges are read from the database when `/metrics` is scraped; Node's process metrics come
 * with them. docs/metrics.md lists every series.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CountedOnboardingStatus, OnboardingCounts } from '../fleet/channel-ports.ts';
import type { MerchantStatus } from '../fleet/model.ts';
import { TARGET_STATES, type RolloutStatus, type TargetState } from '../fleet/rollout-model.ts';
import type { RolloutStepName, RolloutStepOutcome } from '../fleet/rollout-scheduler.ts';
import { silentLogger, type Logger } from '../kuaishou/logger.ts';

/** The prefix of every series, Node's process metrics included. */
export const METRIC_PREFIX = 'ksisv_';

/** API requests: most answer in a few ms; uploads and SSE setup take longer. Seconds. */
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Platform calls: 5 ms (the sandbox on loopback) to 30 s (the client's longest timeout). Seconds. */
export const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** One push: verify, decrypt, store (group commit waits at most a turn of the event loop and a batch). Seconds. */
export const PUSH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** One rollout step: up to 8 platform calls behind the rate limit, given half a lease (30 s by default). Seconds. */
export const ROLLOUT_STEP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Whose targets `ksisv_rollout_targets` counts: the rollouts not finished, which an operator may still steer. */
export const COUNTED_TARGETS_OF: readonly RolloutStatus[] = ['running', 'paused'];

// Every value of each status type, checked by the compiler: a gauge emits all of them, 0 when none.
const ROLLOUT_STATUSES = Object.keys({ running: 0, paused: 0, completed: 0, aborted: 0, rolling_back: 0, rolled_back: 0 } satisfies Record<RolloutStatus, 0>);
const MERCHANT_STATUSES = Object.keys({ authorized: 0, revoked: 0 } satisfies Record<MerchantStatus, 0>);
const ONBOARDING_STATUSES = Object.keys({ blocked: 0, starting: 0, in_progress: 0, live: 0, failed: 0 } satisfies Record<CountedOnboardingStatus, 0>);

/** Where the gauges come from: cheap grouped reads, each called once per scrape. */
export interface FleetGaugeSources {
  rollouts(): Promise<Partial<Record<RolloutStatus, number>>>;
  rolloutTargets(ofStatuses: readonly RolloutStatus[]): Promise<Partial<Record<TargetState, number>>>;
  onboardings(): Promise<OnboardingCounts>;
  merchants(): Promise<Partial<Record<MerchantStatus, number>>>;
  /** Epoch ms the stored component ticket and token expire at (0: known invalid); undefined: none stored. */
  componentExpiries(): Promise<{ ticket: number | undefined; componentToken: number | undefined }>;
}

export interface MetricsOptions {
  /** Where a gauge that could not be read is reported (the scrape goes on without it). */
  logger?: Logger;
  now?: () => number;
}

type HttpSeries = { requests: Counter.Internal; duration: Histogram.Internal<string> };

/** The label children of one metric by label values, each made on first use. */
function children<C>(make: (a: string, b: string) => C): (a: string, b: string) => C {
  const byFirst = new Map<string, Map<string, C>>();
  return (a, b) => {
    let bySecond = byFirst.get(a);
    if (bySecond === undefined) byFirst.set(a, (bySecond = new Map<string, C>()));
    let child = bySecond.get(b);
    if (child === undefined) bySecond.set(b, (child = make(a, b)));
    return child;
  };
}

/**
 * Node's process metrics, collected once per process into a registry of their own (never prom-client's
 * global one): each `collectDefaultMetrics` call starts an event-loop-delay monitor and a GC observer that
 * nothing stops, and the process is the same for every service in it.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX });
  }
  return processRegistry;
}

export class Metrics {
  /** Everything `/metrics` shows: this service's series and the process's. */
  readonly register: Registry;

  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly upstreamCalls: Counter<'operation' | 'result'>;
  readonly upstreamDuration: Histogram<'operation' | 'result'>;
  readonly tokenRefreshes: Counter<'operation'>;
  readonly pushes: Counter<'event' | 'outcome'>;
  readonly pushDuration: Histogram<'event'>;
  readonly pushCommits: Counter;
  readonly pushesCommitted: Counter;
  readonly rolloutStepDuration: Histogram<'outcome' | 'step'>;

  private readonly logger: Logger;
  private readonly now: () => number;
  private sources: FleetGaugeSources | undefined;
  /** The one credentials read both expiry gauges of a scrape share. */
  private expiries: ReturnType<FleetGaugeSources['componentExpiries']> | undefined;
  private readonly http = new Map<string, Map<string, Map<number, HttpSeries>>>();
  private readonly upstream: (operation: string, result: string) => { calls: Counter.Internal; duration: Histogram.Internal<string> };
  private readonly pushCount: (event: string, outcome: string) => Counter.Internal;
  private readonly pushTime = new Map<string, Histogram.Internal<string>>();
  private readonly refreshCount = new Map<string, Counter.Internal>();
  private readonly stepTime: (step: string, outcome: string) => Histogram.Internal<string>;
  private readonly commitCount: Counter.Internal;
  private readonly committedCount: Counter.Internal;

  constructor(options: MetricsOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    const registers = [new Registry()];
    // Label names in alphabetical order: the order they are written in, as before prom-client.
    this.httpRequests = new Counter({ name: 'ksisv_http_requests_total', help: 'HTTP requests by route template, method and status.', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'ksisv_http_request_duration_seconds',
      help: 'HTTP request durations (until the answer is sent) by route template, method and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.upstreamCalls = new Counter({ name: 'ksisv_upstream_calls_total', help: 'Kuaishou platform calls by operation and result.', labelNames: ['operation', 'result'], registers });
    this.upstreamDuration = new Histogram({
      name: 'ksisv_upstream_call_duration_seconds',
      help: 'Kuaishou platform call durations (until the answer\'s headers) by operation and result.',
      labelNames: ['operation', 'result'],
      buckets: UPSTREAM_BUCKETS,
      registers,
    });
    this.tokenRefreshes = new Counter({ name: 'ksisv_token_refreshes_total', help: 'Token refresh calls by kind.', labelNames: ['operation'], registers });
    this.pushes = new Counter({ name: 'ksisv_pushes_total', help: 'Pushes received by event and outcome.', labelNames: ['event', 'outcome'], registers });
    this.pushDuration = new Histogram({
      name: 'ksisv_push_handle_duration_seconds',
      help: 'Time to handle one push (verify, decrypt, store, answer) by event type; refused pushes as event "rejected".',
      labelNames: ['event'],
      buckets: PUSH_BUCKETS,
      registers,
    });
    this.pushCommits = new Counter({ name: 'ksisv_push_commits_total', help: 'Commits that stored pushes (group commit: pushes arriving together share one).', registers });
    this.pushesCommitted = new Counter({ name: 'ksisv_push_commit_pushes_total', help: 'New pushes stored by those commits (not resends); divided by ksisv_push_commits_total, about the mean batch.', registers });
    this.rolloutStepDuration = new Histogram({
      name: 'ksisv_rollout_step_duration_seconds',
      help: 'Rollout step durations (rate-limit waits included) by step (the state the target was claimed in, or domains, rollback) and outcome.',
      labelNames: ['outcome', 'step'],
      buckets: ROLLOUT_STEP_BUCKETS,
      registers,
    });
    this.registerGauges(registers);

    this.upstream = children((operation, result) => ({ calls: this.upstreamCalls.labels(operation, result), duration: this.upstreamDuration.labels(operation, result) }));
    this.pushCount = children((event, outcome) => this.pushes.labels(event, outcome));
    this.stepTime = children((step, outcome) => this.rolloutStepDuration.labels(outcome, step));
    this.commitCount = this.pushCommits.labels();
    this.committedCount = this.pushesCommitted.labels();
    this.register = Registry.merge([registers[0]!, processMetrics()]);
  }

  /** Where the gauges read from at scrape time (the fleet's services exist after the metrics). */
  watch(sources: FleetGaugeSources): void {
    this.sources = sources;
  }

  get contentType(): string {
    return this.register.contentType;
  }

  /** The exposition text. A gauge whose read fails is left out (logged); the rest is still served. */
  render(): Promise<string> {
    return this.register.metrics();
  }

  /** One answered request; `route` is the route template (undefined: no route matched), `ms` its duration. */
  observeRequest(route: string | undefined, method: string, status: number, ms: number): void {
    const template = route ?? 'unmatched';
    let byMethod = this.http.get(template);
    if (byMethod === undefined) this.http.set(template, (byMethod = new Map<string, Map<number, HttpSeries>>()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map<number, HttpSeries>()));
    let series = byStatus.get(status);
    if (series === undefined) {
      const code = String(status);
      byStatus.set(status, (series = { requests: this.httpRequests.labels(method, template, code), duration: this.httpDuration.labels(method, template, code) }));
    }
    series.requests.inc();
    series.duration.observe(ms / 1000);
  }

  /** One platform call that answered (`http_2xx`, `http_<status>`) or did not (`no_answer`). */
  upstreamCall(operation: string, result: string, seconds: number): void {
    const series = this.upstream(operation, result);
    series.calls.inc();
    series.duration.observe(seconds);
  }

  tokenRefresh(operation: string): void {
    let child = this.refreshCount.get(operation);
    if (child === undefined) this.refreshCount.set(operation, (child = this.tokenRefreshes.labels(operation)));
    child.inc();
  }

  /** A push's outcome (`rejected` as the event of a push refused before it was opened). */
  push(event: string, outcome: string): void {
    this.pushCount(event, outcome).inc();
  }

  /** How long handling one push took. */
  pushHandled(event: string, seconds: number): void {
    let child = this.pushTime.get(event);
    if (child === undefined) this.pushTime.set(event, (child = this.pushDuration.labels(event)));
    child.observe(seconds);
  }

  /** A group commit stored `stored` new pushes. */
  pushBatch(stored: number): void {
    this.commitCount.inc();
    this.committedCount.inc(stored);
  }

  rolloutStep(step: RolloutStepName, outcome: RolloutStepOutcome, ms: number): void {
    this.stepTime(step, outcome).observe(ms / 1000);
  }

  private registerGauges(registers: Registry[]): void {
    this.gauge('ksisv_rollouts', 'Rollouts by status (every instance on the database reports the same count).', 'status', async (set) => {
      const counts = await this.need().rollouts();
      return () => setAll(set, ROLLOUT_STATUSES, counts);
    }, registers);
    this.gauge('ksisv_rollout_targets', `Targets of the ${COUNTED_TARGETS_OF.join(' and ')} rollouts by state.`, 'state', async (set) => {
      const counts = await this.need().rolloutTargets(COUNTED_TARGETS_OF);
      return () => setAll(set, TARGET_STATES, counts);
    }, registers);
    this.gauge('ksisv_onboardings', 'Onboardings (quick activation) by status, and status "stuck": blocked, failed, or starting / in progress for over 30 min (also counted in their own status).', 'status', async (set) => {
      const counts = await this.need().onboardings();
      return () => {
        setAll(set, ONBOARDING_STATUSES, counts.byStatus);
        set('stuck', counts.stuck);
      };
    }, registers);
    this.gauge('ksisv_merchants', 'Merchants by authorization status.', 'status', async (set) => {
      const counts = await this.need().merchants();
      return () => setAll(set, MERCHANT_STATUSES, counts);
    }, registers);
    for (const credential of ['ticket', 'componentToken'] as const) {
      const name = credential === 'ticket' ? 'ksisv_component_ticket_expiry_seconds' : 'ksisv_component_token_expiry_seconds';
      const what = credential === 'ticket' ? 'component ticket' : 'component access token';
      this.gauge(name, `Seconds until the stored ${what} expires (0: expired or known invalid; absent: none stored).`, undefined, async (set) => {
        const expiresAt = (await this.componentExpiries())[credential];
        return () => {
          if (expiresAt !== undefined) set(undefined, Math.max(0, expiresAt - this.now()) / 1000);
        };
      }, registers);
    }
  }

  /**
   * A gauge read at scrape time: `read` queries, then returns what to set (so a failed read sets nothing).
   * A failure leaves the gauge without samples and logs a warning; the scrape goes on.
   */
  private gauge(
    name: string,
    help: string,
    label: 'status' | 'state' | undefined,
    read: (set: (value: string | undefined, count: number) => void) => Promise<() => void>,
    registers: Registry[],
  ): void {
    const logger = this.logger;
    const hasSources = (): boolean => this.sources !== undefined;
    // prom-client gives a gauge without labels a sample of 0 on creation and reset: "no value" is its removal.
    const clear = (): void => {
      gauge.reset();
      if (label === undefined) gauge.remove({});
    };
    const gauge: Gauge<string> = new Gauge({
      name,
      help,
      labelNames: label === undefined ? [] : [label],
      registers,
      async collect() {
        if (!hasSources()) return;
        try {
          const apply = await read((value, count) => (label === undefined || value === undefined ? gauge.set(count) : gauge.set({ [label]: value }, count)));
          // Cleared and set in one go: what the last scrape set and this one no longer has disappears.
          clear();
          apply();
        } catch (error) {
          clear();
          logger.warn({ metric: name, error: error instanceof Error ? error.message : String(error) }, 'a gauge could not be read: left out of this scrape');
        }
      },
    });
    clear();
  }

  private need(): FleetGaugeSources {
    if (this.sources === undefined) throw new Error('no gauge sources');
    return this.sources;
  }

  private componentExpiries(): ReturnType<FleetGaugeSources['componentExpiries']> {
    this.expiries ??= this.need()
      .componentExpiries()
      .finally(() => (this.expiries = undefined));
    return this.expiries;
  }
}

/** Every known value (0 when the database has none), and any other the database returned. */
function setAll(set: (value: string, count: number) => void, known: readonly string[], counts: Partial<Record<string, number>>): void {
  for (const value of known) set(value, counts[value] ?? 0);
  for (const [value, count] of Object.entries(counts)) if (!known.includes(value) && count !== undefined) set(value, count);
}
