/**
 * A strict reader of Prometheus' text exposition format (0.0.4): it throws, naming the line, on anything a
 * Prometheus server would refuse or misread, and returns the families for assertions. Checked:
 * - every line is `# HELP <name> <text>`, `# TYPE <name> <type>`, a sample, or empty (between families);
 *   no other comments, the text ends with a newline;
 * - metric and label names are valid; label values use only the `\\`, `\"` and `\n` escapes; no label
 *   twice in a sample; values are floats, NaN or ±Inf (what Go's ParseFloat takes); no timestamps;
 * - every sample belongs to a family with a TYPE that came before it (`_bucket`/`_sum`/`_count` of a
 *   histogram, `_sum`/`_count` of a summary), a family's lines are contiguous, one HELP and one TYPE each,
 *   no series twice;
 * - counters are ≥ 0; each histogram series has buckets with increasing `le`, cumulative counts, the last
 *   `le="+Inf"` equal to its `_count`, and a `_sum`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket` for a histogram's bucket). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A sample value as Go's strconv.ParseFloat reads it (NaN and Inf in any case). */
export function parseValue(text: string): number | undefined {
  if (/^nan$/i.test(text)) return Number.NaN;
  if (/^[+]?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  return FLOAT.test(text) ? Number(text) : undefined;
}

/** The family a sample name belongs to, given the TYPEs declared so far. */
function familyOf(name: string, types: ReadonlyMap<string, MetricType>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

/** Reads `name{labels} value` at the start of `rest`; throws on anything malformed. */
function parseSample(line: string, fail: (why: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) fail('a sample must start with a metric name');
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!labelMatch) fail(`a label name was expected at column ${i + 1}`);
      const label = labelMatch[0];
      if (!LABEL_NAME.test(label) || label.startsWith('__')) fail(`label name ${label} is reserved or invalid`);
      if (label in labels) fail(`label ${label} appears twice`);
      i += label.length;
      if (line.slice(i, i + 2) !== '="') fail(`label ${label} must be followed by ="`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) fail(`the value of label ${label} is not closed`);
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\') {
          const next = line[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else fail(`label ${label}: invalid escape \\${next ?? ''}`);
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      labels[label] = value;
      if (line[i] === ',') {
        i++;
        continue;
      }
      if (line[i] !== '}') fail(`label ${label}: expected , or } after its value`);
    }
  }
  if (line[i] !== ' ') fail('the metric and its value must be separated by one space');
  const parts = line.slice(i + 1).split(' ');
  if (parts.length !== 1) fail('a sample is "name{labels} value" (no timestamp, no trailing space)');
  const value = parseValue(parts[0]!);
  if (value === undefined) fail(`"${parts[0]}" is not a number`);
  return { name, labels, value };
}

function seriesKey(sample: Sample, without?: string): string {
  return `${sample.name}{${Object.keys(sample.labels)
    .filter((label) => label !== without)
    .sort()
    .map((label) => `${label}=${JSON.stringify(sample.labels[label])}`)
    .join(',')}}`;
}

function checkHistogram(family: Family): void {
  const fail: (why: string) => never = (why) => {
    throw new ExpositionError(`histogram ${family.name}: ${why}`);
  };
  const seriesOf = (sample: Sample): string => seriesKey({ ...sample, name: family.name }, 'le');
  const buckets = new Map<string, { le: number; value: number }[]>();
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const sample of family.samples) {
    const key = seriesOf(sample);
    if (sample.name === `${family.name}_bucket`) {
      const le = sample.labels.le;
      if (le === undefined) fail(`a bucket without le: ${key}`);
      const bound = parseValue(le);
      if (bound === undefined || Number.isNaN(bound)) fail(`le="${le}" is not a number`);
      buckets.set(key, [...(buckets.get(key) ?? []), { le: bound, value: sample.value }]);
    } else if (sample.name === `${family.name}_sum`) sums.set(key, sample.value);
    else if (sample.name === `${family.name}_count`) counts.set(key, sample.value);
    else fail(`sample ${sample.name} is not a bucket, sum or count`);
  }
  for (const key of new Set([...buckets.keys(), ...sums.keys(), ...counts.keys()])) {
    const list = buckets.get(key) ?? fail(`${key} has no buckets`);
    for (let i = 1; i < list.length; i++) {
      if (!(list[i]!.le > list[i - 1]!.le)) fail(`${key}: le ${list[i]!.le} does not increase`);
      if (list[i]!.value < list[i - 1]!.value) fail(`${key}: buckets are not cumulative at le ${list[i]!.le}`);
    }
    if (list.at(-1)!.le !== Number.POSITIVE_INFINITY) fail(`${key}: the last bucket is not le="+Inf"`);
    const count = counts.get(key) ?? fail(`${key} has no _count`);
    if (list.at(-1)!.value !== count) fail(`${key}: le="+Inf" is ${list.at(-1)!.value}, _count is ${count}`);
    if (!sums.has(key)) fail(`${key} has no _sum`);
  }
}

/** Parses `text` strictly; throws an `ExpositionError` naming the first problem. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError('the text must end with a newline');
  const families = new Map<string, Family>();
  const types = new Map<string, MetricType>();
  const seriesSeen = new Set<string>();
  const finished = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, fail: (why: string) => never): Family => {
    if (current !== name) {
      if (finished.has(name)) fail(`the lines of ${name} are not together`);
      if (current !== undefined) finished.add(current);
      current = name;
    }
    let family = families.get(name);
    if (!family) families.set(name, (family = { name, type: 'untyped', help: undefined, samples: [] }));
    return family;
  };
  const lines = text.split('\n');
  lines.pop(); // after the final newline
  lines.forEach((line, index) => {
    const fail: (why: string) => never = (why) => {
      throw new ExpositionError(`line ${index + 1}: ${why}: ${JSON.stringify(line.slice(0, 200))}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
      if (!comment) return fail('the only comments allowed are # HELP and # TYPE');
      const [, kind, name, rest] = comment as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) fail(`${name} is not a valid metric name`);
      const family = enter(name, fail);
      if (kind === 'HELP') {
        if (family.help !== undefined) fail(`a second HELP for ${name}`);
        if (/\\([^\\n]|$)/.test(rest.replace(/\\\\/g, ''))) fail('HELP text may only escape \\\\ and \\n');
        family.help = rest;
      } else {
        if (types.has(name)) fail(`a second TYPE for ${name}`);
        if (!TYPES.has(rest)) fail(`${rest} is not a metric type`);
        if (family.samples.length > 0) fail(`the TYPE of ${name} comes after its samples`);
        family.type = rest as MetricType;
        types.set(name, family.type);
      }
      return;
    }
    const sample = parseSample(line, fail);
    const familyName = familyOf(sample.name, types) ?? fail(`sample ${sample.name} has no TYPE before it`);
    const family = enter(familyName, fail);
    const key = seriesKey(sample);
    if (seriesSeen.has(key)) fail(`series ${key} appears twice`);
    seriesSeen.add(key);
    if ('le' in sample.labels && family.type !== 'histogram') fail('only histogram buckets carry le');
    if (family.type === 'counter' && !(sample.value >= 0)) fail('a counter is never negative');
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (!types.has(family.name)) throw new ExpositionError(`${family.name} has a HELP but no TYPE`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(families: ReadonlyMap<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value)) out.push(sample);
    }
  }
  return out;
}

/** The value of the one sample named `name` with exactly `labels` (undefined: none). */
export function valueOf(families: ReadonlyMap<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samplesOf(families, name, labels).filter((sample) => Object.keys(sample.labels).length === Object.keys(labels).length);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
