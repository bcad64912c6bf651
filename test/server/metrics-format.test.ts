/**
 * No servers: the strict exposition checker refuses what Prometheus would (so the /metrics tests that use
 * it can fail), and a `Metrics` instance over fake gauge sources renders what docs/metrics.md says —
 * every known status at 0, an absent credential without a sample, a failed read left out and logged,
 * label values escaped, two instances with registries of their own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/kuaishou/logger.ts';
import { Metrics, type FleetGaugeSources } from '../../src/server/metrics.ts';
import { ExpositionError, parseExposition, samplesOf, valueOf } from '../helpers/exposition.ts';

const GOOD = `# HELP a_total Things.
# TYPE a_total counter
a_total{kind="x\\"y\\\\z\\n"} 3

# TYPE h histogram
h_bucket{le="0.1",op="u"} 1
h_bucket{le="1",op="u"} 2
h_bucket{le="+Inf",op="u"} 2
h_sum{op="u"} 0.35
h_count{op="u"} 2
# TYPE g gauge
g 1.5e-7
g2_no_type_yet_is_bad 1
`;

test('the checker reads a well-formed exposition and unescapes label values', () => {
  const text = GOOD.replace('g2_no_type_yet_is_bad 1\n', '# TYPE g2 gauge\ng2 Nan\n');
  const families = parseExposition(text);
  assert.deepEqual([...families.keys()], ['a_total', 'h', 'g', 'g2']);
  assert.equal(samplesOf(families, 'a_total')[0]?.labels.kind, 'x"y\\z\n');
  assert.equal(valueOf(families, 'h_count', { op: 'u' }), 2);
  assert.equal(valueOf(families, 'g'), 1.5e-7);
  assert.ok(Number.isNaN(valueOf(families, 'g2')));
});

test('the checker refuses what Prometheus would refuse or misread', () => {
  const ok = GOOD.replace('g2_no_type_yet_is_bad 1\n', '');
  parseExposition(ok);
  const broken: [string, string, RegExp][] = [
    ['a sample without a TYPE', GOOD, /no TYPE/],
    ['no final newline', ok.slice(0, -1), /newline/],
    ['another comment', `# just a comment\n${ok}`, /only comments allowed/],
    ['a bad metric name', `${ok}# TYPE 9x gauge\n9x 1\n`, /metric name|start with a metric name/],
    ['a bad escape', ok.replace('x\\"y', 'x\\ty'), /invalid escape/],
    ['an unclosed label value', ok.replace('a_total{kind="x\\"y\\\\z\\n"} 3', 'a_total{kind="x} 3'), /not closed|expected , or }/],
    ['a label twice', ok.replace('h_bucket{le="0.1",op="u"}', 'h_bucket{le="0.1",op="u",op="v"}'), /twice/],
    ['a value that is no number', ok.replace('g 1.5e-7', 'g 1,5'), /not a number/],
    ['a timestamp', ok.replace('g 1.5e-7', 'g 1 1700000000000'), /no timestamp/],
    ['two spaces', ok.replace('g 1.5e-7', 'g  1'), /no timestamp|not a number/],
    ['buckets not cumulative', ok.replace('h_bucket{le="1",op="u"} 2', 'h_bucket{le="1",op="u"} 0'), /cumulative/],
    ['no +Inf bucket', ok.replace('h_bucket{le="+Inf",op="u"} 2\n', ''), /\+Inf/],
    ['+Inf not the count', ok.replace('h_count{op="u"} 2', 'h_count{op="u"} 3'), /_count is 3/],
    ['no _sum', ok.replace('h_sum{op="u"} 0.35\n', ''), /no _sum/],
    ['le not increasing', ok.replace('h_bucket{le="1",op="u"}', 'h_bucket{le="0.05",op="u"}'), /does not increase/],
    ['a negative counter', ok.replace('} 3', '} -3'), /never negative/],
    ['a TYPE after samples', ok.replace('# TYPE g gauge\ng 1.5e-7\n', 'g 1.5e-7\n# TYPE g gauge\n'), /no TYPE before it|after its samples/],
    ['a family split in two', `${ok}# TYPE a_total counter\n`, /second TYPE|not together/],
    ['a series twice', ok.replace('g 1.5e-7', 'g 1.5e-7\ng 2'), /twice/],
    ['le on a gauge', ok.replace('g 1.5e-7', 'g{le="1"} 2'), /only histogram buckets/],
    ['a reserved label', ok.replace('g 1.5e-7', 'g{__name__="x"} 2'), /reserved/],
    ['an unknown type', ok.replace('# TYPE g gauge', '# TYPE g meter'), /not a metric type/],
  ];
  for (const [what, text, why] of broken) {
    assert.throws(() => parseExposition(text), (error: unknown) => error instanceof ExpositionError && why.test(error.message), what);
  }
});

function sources(overrides: Partial<FleetGaugeSources> = {}): FleetGaugeSources {
  return {
    rollouts: () => Promise.resolve({ completed: 2, running: 1 }),
    rolloutTargets: (statuses) => Promise.resolve(statuses.join() === 'running,paused' ? { auditing: 3 } : {}),
    onboardings: () => Promise.resolve({ byStatus: { live: 4, blocked: 1 }, stuck: 1 }),
    merchants: () => Promise.resolve({ authorized: 5, revoked: 1 }),
    componentExpiries: () => Promise.resolve({ ticket: 1_000_000 + 2_400_000, componentToken: undefined }),
    ...overrides,
  };
}

test('gauges: every known status (0 when none), the targets of running and paused rollouts, expiry in seconds, absent left out', async () => {
  const metrics = new Metrics({ now: () => 1_000_000 });
  metrics.watch(sources());
  const families = parseExposition(await metrics.render());
  assert.deepEqual(samplesOf(families, 'ksisv_rollouts').map((s) => [s.labels.status, s.value]), [
    ['running', 1], ['paused', 0], ['completed', 2], ['aborted', 0], ['rolling_back', 0], ['rolled_back', 0],
  ]);
  assert.equal(valueOf(families, 'ksisv_rollout_targets', { state: 'auditing' }), 3);
  assert.equal(valueOf(families, 'ksisv_rollout_targets', { state: 'released' }), 0);
  assert.deepEqual(samplesOf(families, 'ksisv_onboardings').map((s) => [s.labels.status, s.value]), [
    ['blocked', 1], ['starting', 0], ['in_progress', 0], ['live', 4], ['failed', 0], ['stuck', 1],
  ]);
  assert.equal(valueOf(families, 'ksisv_merchants', { status: 'authorized' }), 5);
  assert.equal(valueOf(families, 'ksisv_component_ticket_expiry_seconds'), 2400);
  assert.equal(families.get('ksisv_component_token_expiry_seconds')?.type, 'gauge');
  assert.deepEqual(families.get('ksisv_component_token_expiry_seconds')?.samples, [], 'no token stored: no sample');
});

test('an expired or invalidated credential is 0; a gauge whose read fails is left out and logged, the others stay', async () => {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const logger: Logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (fields, message) => warnings.push({ fields, message }) };
  const metrics = new Metrics({ logger, now: () => 1_000_000 });
  metrics.watch(sources({
    componentExpiries: () => Promise.resolve({ ticket: 999_000, componentToken: 0 }),
    onboardings: () => Promise.reject(new Error('relation "onboardings" does not exist')),
  }));
  const families = parseExposition(await metrics.render());
  assert.equal(valueOf(families, 'ksisv_component_ticket_expiry_seconds'), 0);
  assert.equal(valueOf(families, 'ksisv_component_token_expiry_seconds'), 0);
  assert.deepEqual(families.get('ksisv_onboardings')?.samples, []);
  assert.equal(valueOf(families, 'ksisv_merchants', { status: 'revoked' }), 1);
  assert.deepEqual(warnings.map((w) => [w.fields.metric, w.message]), [['ksisv_onboardings', 'a gauge could not be read: left out of this scrape']]);
});

test('without gauge sources the gauges have no samples; the credential read is shared by both expiry gauges', async () => {
  const bare = parseExposition(await new Metrics().render());
  for (const name of ['ksisv_rollouts', 'ksisv_merchants', 'ksisv_component_ticket_expiry_seconds', 'ksisv_component_token_expiry_seconds']) assert.deepEqual(bare.get(name)?.samples, [], name);
  let reads = 0;
  const metrics = new Metrics({ now: () => 0 });
  metrics.watch(sources({ componentExpiries: () => Promise.resolve({ ticket: 1000 * ++reads, componentToken: 5000 }) }));
  const first = parseExposition(await metrics.render());
  assert.equal(reads, 1, 'one read per scrape');
  assert.deepEqual([valueOf(first, 'ksisv_component_ticket_expiry_seconds'), valueOf(first, 'ksisv_component_token_expiry_seconds')], [1, 5]);
  await metrics.render();
  assert.equal(reads, 2, 'and a new one on the next');
});

test('hot-path series: label values escaped, counters and histograms agree, two instances share nothing but the process metrics', async () => {
  const one = new Metrics();
  const two = new Metrics();
  one.observeRequest('/api/v1/merchants/:appId', 'GET', 200, 12);
  one.observeRequest('/api/v1/merchants/:appId', 'GET', 200, 2);
  one.observeRequest(undefined, 'GET', 404, 1);
  one.upstreamCall('uploadCode', 'http_2xx', 0.2);
  one.upstreamCall('uploadCode', 'no_answer', 31);
  one.push('unknown', 'applied');
  one.pushHandled('we"ird\\event\n', 0.001);
  one.pushBatch(5);
  one.tokenRefresh('refreshAuthorizerToken');
  one.rolloutStep('pending', 'advanced', 1500);
  const families = parseExposition(await one.render());
  assert.equal(valueOf(families, 'ksisv_http_requests_total', { method: 'GET', route: '/api/v1/merchants/:appId', status: '200' }), 2);
  assert.equal(valueOf(families, 'ksisv_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/merchants/:appId', status: '200' }), 2);
  assert.equal(valueOf(families, 'ksisv_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v1/merchants/:appId', status: '200', le: '0.005' }), 1);
  assert.equal(valueOf(families, 'ksisv_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1);
  assert.equal(valueOf(families, 'ksisv_upstream_call_duration_seconds_bucket', { operation: 'uploadCode', result: 'no_answer', le: '30' }), 0, 'past the last bucket');
  assert.equal(valueOf(families, 'ksisv_upstream_call_duration_seconds_bucket', { operation: 'uploadCode', result: 'no_answer', le: '+Inf' }), 1);
  assert.equal(valueOf(families, 'ksisv_push_handle_duration_seconds_count', { event: 'we"ird\\event\n' }), 1);
  assert.deepEqual([valueOf(families, 'ksisv_push_commits_total'), valueOf(families, 'ksisv_push_commit_pushes_total')], [1, 5]);
  assert.equal(valueOf(families, 'ksisv_rollout_step_duration_seconds_sum', { step: 'pending', outcome: 'advanced' }), 1.5);

  const other = parseExposition(await two.render());
  assert.deepEqual(samplesOf(other, 'ksisv_http_requests_total'), [], 'a registry of its own');
  assert.equal(valueOf(other, 'ksisv_push_commits_total'), 0);
  assert.equal(samplesOf(other, 'ksisv_process_cpu_user_seconds_total').length, 1, 'the process metrics in both');
  assert.equal(one.contentType, 'text/plain; version=0.0.4; charset=utf-8');
});
