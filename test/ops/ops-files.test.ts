/**
 * The shipped monitoring files, without servers: ops/prometheus/alerts.yml is a Prometheus rule file
 * (groups of alerts, each with expr, for, a severity and a summary and description), ops/grafana/ks-isv.json
 * a Grafana dashboard on a `${DS_PROMETHEUS}` data source whose panels all query something; and every
 * metric either names is one a real `Metrics` instance exports (its registry, with the histograms'
 * `_bucket`/`_sum`/`_count` series and Node's process metrics), so renaming a metric breaks this test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Histogram } from 'prom-client';
import { parse } from 'yaml';
import { Metrics } from '../../src/server/metrics.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface AlertRule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}
interface RuleFile {
  groups?: { name?: unknown; rules?: AlertRule[] }[];
}
interface Target {
  refId?: unknown;
  expr?: unknown;
  datasource?: { type?: unknown; uid?: unknown };
}
interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  datasource?: { type?: unknown; uid?: unknown };
  gridPos?: { h?: unknown; w?: unknown; x?: unknown; y?: unknown };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  title?: unknown;
  uid?: unknown;
  __inputs?: { name?: unknown; type?: unknown; pluginId?: unknown }[];
  templating?: { list?: { name?: unknown; type?: unknown; query?: unknown }[] };
  panels?: Panel[];
}

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names a PromQL expression selects (strings, label matchers, ranges and grouping lists left out). */
function metricNamesIn(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = text[match.index - 1] ?? ' ';
    if (/[0-9.$]/.test(before)) continue; // the exponent of 1e3, a $variable
    if (text.slice(match.index + match[0].length).trimStart().startsWith('(')) continue; // a function
    if (PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

/** What the service exports: every family of a real registry, histograms with their three series. */
function exportedNames(): { all: Set<string>; families: string[] } {
  const metrics = new Metrics();
  const all = new Set<string>();
  const families: string[] = [];
  for (const metric of metrics.register.getMetricsAsArray()) {
    families.push(metric.name);
    all.add(metric.name);
    if (metric instanceof Histogram) for (const suffix of ['_bucket', '_sum', '_count']) all.add(`${metric.name}${suffix}`);
  }
  return { all, families };
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

test('the PromQL name reader finds the selected metrics and nothing else', () => {
  assert.deepEqual(
    metricNamesIn('histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{job=~"$job",a="b(c)"}[$__rate_interval]))) / on () max(y) > 1e3 and bool z offset 5m'),
    ['x_bucket', 'y', 'z'],
  );
  assert.deepEqual(metricNamesIn('absent(a_total) or vector(0)'), ['a_total']);
});

test('ops/prometheus/alerts.yml: groups of alerts, each with expr, for, severity, summary and description; metrics the service exports', () => {
  const file = parse(read('ops/prometheus/alerts.yml')) as RuleFile;
  const { all } = exportedNames();
  assert.ok(Array.isArray(file.groups) && file.groups.length > 0, 'groups');
  const groupNames = new Set<string>();
  const alertNames = new Set<string>();
  const used = new Set<string>();
  for (const group of file.groups) {
    assert.equal(typeof group.name, 'string', 'a group name');
    assert.ok(!groupNames.has(group.name as string), `group ${String(group.name)} once`);
    groupNames.add(group.name as string);
    assert.ok(Array.isArray(group.rules) && group.rules.length > 0, `${String(group.name)} has rules`);
    for (const rule of group.rules) {
      assert.equal(rule.record, undefined, 'alerting rules only');
      assert.match(String(rule.alert), /^KsIsv[A-Z][A-Za-z]+$/, 'an alert name');
      const name = rule.alert as string;
      assert.ok(!alertNames.has(name), `${name} once`);
      alertNames.add(name);
      assert.ok(typeof rule.expr === 'string' && rule.expr.trim().length > 0, `${name}: expr`);
      assert.match(String(rule.for), /^\d+(ms|s|m|h|d)$/, `${name}: for`);
      assert.match(String(rule.labels?.severity), /^(info|warning|critical)$/, `${name}: severity`);
      for (const annotation of ['summary', 'description']) {
        const text = rule.annotations?.[annotation];
        assert.ok(typeof text === 'string' && text.trim().length > 10, `${name}: ${annotation}`);
      }
      const expr = rule.expr;
      for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']] as const) {
        assert.equal(expr.split(open).length, expr.split(close).length, `${name}: balanced ${open}${close}`);
      }
      const names = metricNamesIn(expr);
      assert.ok(names.length > 0, `${name} selects a metric`);
      for (const metric of names) {
        assert.ok(all.has(metric), `${name}: ${metric} is not a series the service exports`);
        used.add(metric);
      }
    }
  }
  // What the brief asks to alert on.
  for (const alert of ['KsIsvOnboardingsStuck', 'KsIsvRolloutFailureRatioHigh', 'KsIsvUpstreamErrorRateHigh', 'KsIsvComponentTicketExpiringSoon', 'KsIsvComponentTokenCannotRenew']) {
    assert.ok(alertNames.has(alert), `${alert} is there`);
  }
  const stuck = file.groups.flatMap((group) => group.rules ?? []).find((rule) => rule.alert === 'KsIsvOnboardingsStuck');
  assert.equal(stuck?.for, '15m');
  assert.match(String(stuck?.expr), /ksisv_onboardings\{status="stuck"\}\) > 0/);
});

test('ops/grafana/ks-isv.json: a dashboard on ${DS_PROMETHEUS} whose panels all query series the service exports, all of them covered', () => {
  const dashboard = JSON.parse(read('ops/grafana/ks-isv.json')) as Dashboard;
  const { all, families } = exportedNames();
  assert.equal(typeof dashboard.title, 'string');
  assert.equal(typeof dashboard.uid, 'string');
  assert.ok(dashboard.__inputs?.some((input) => input.name === 'DS_PROMETHEUS' && input.type === 'datasource' && input.pluginId === 'prometheus'), 'the data source as an input');
  assert.ok(dashboard.templating?.list?.some((variable) => variable.name === 'DS_PROMETHEUS' && variable.type === 'datasource' && variable.query === 'prometheus'), 'and as a templated variable');
  const panels = allPanels(dashboard.panels ?? []);
  const ids = panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const queried = panels.filter((panel) => panel.type !== 'row');
  assert.ok(queried.length >= 15, `${queried.length} panels`);
  const used = new Set<string>();
  for (const panel of queried) {
    const title = String(panel.title);
    assert.ok(typeof panel.title === 'string' && panel.title.length > 0, 'a title');
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, `${title}: data source`);
    for (const key of ['h', 'w', 'x', 'y'] as const) assert.equal(typeof panel.gridPos?.[key], 'number', `${title}: gridPos.${key}`);
    assert.ok(Array.isArray(panel.targets) && panel.targets.length > 0, `${title} has targets`);
    const refIds = panel.targets.map((target) => target.refId);
    assert.equal(new Set(refIds).size, refIds.length, `${title}: refIds unique`);
    for (const target of panel.targets) {
      assert.ok(typeof target.expr === 'string' && target.expr.length > 0, `${title}: an expr`);
      const names = metricNamesIn(target.expr);
      assert.ok(names.length > 0, `${title}: ${target.expr} selects a metric`);
      for (const metric of names) {
        assert.ok(all.has(metric), `${title}: ${metric} is not a series the service exports`);
        used.add(metric.replace(/_(bucket|sum|count)$/, ''));
      }
    }
  }
  // Every series of the service itself (not Node's process metrics) is on the dashboard.
  const own = families.filter((name) => !/^ksisv_(process|nodejs)_/.test(name));
  assert.ok(own.length >= 16, `${own.length} series of the service`);
  assert.deepEqual(own.filter((name) => !used.has(name)), [], 'series missing from the dashboard');
  for (const processMetric of ['ksisv_process_cpu_user_seconds_total', 'ksisv_process_resident_memory_bytes', 'ksisv_nodejs_eventloop_lag_p99_seconds']) {
    assert.ok(used.has(processMetric), `${processMetric} on the dashboard`);
  }
});
