/**
 * What an answer looked like and what the table expects of it, as field NAMES only — never a value (the
 * answers carry tokens). The probe compares the two when an answer does not decode.
 */
import { Fields, isRecord } from './decode.ts';
import type { Endpoint } from './endpoints.ts';
import { UnexpectedResponseError } from './errors.ts';

export interface AnswerShape {
  httpStatus: number;
  /** The media type without its parameters (`application/json`, `image/png`, `text/html`); '' when none was sent. */
  contentType: string;
  /**
   * A JSON object's field names at the top level and one level down, sorted: `data`, `data.latest`,
   * `templates[]` … `templates[].template_id` (items of an array of objects). null: not a JSON object.
   */
  fields: string[] | null;
}

/** Names that look like field names; anything else (a key that is itself data) is counted, not shown. */
const FIELD_NAME = /^[A-Za-z_$][\w$-]{0,63}$/;
const MAX_NAMES = 200;
const ITEMS_LOOKED_AT = 20;

/**
 * The shape of one answer. `secrets` are the request's credential values: a key equal to one (a map keyed
 * by token, however unlikely) is left out like any other key that does not look like a field name.
 */
export function answerShape(httpStatus: number, contentType: string, body: unknown, secrets: readonly string[] = []): AnswerShape {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return { httpStatus, contentType: mediaType, fields: isRecord(body) ? fieldNames(body, secrets) : null };
}

function fieldNames(body: Record<string, unknown>, secrets: readonly string[]): string[] {
  const names = new Set<string>();
  let hidden = 0;
  const shown = (name: string): boolean => {
    const ok = FIELD_NAME.test(name) && !secrets.some((secret) => secret.length >= 6 && name.includes(secret));
    if (!ok) hidden++;
    return ok;
  };
  for (const [name, value] of Object.entries(body)) {
    if (!shown(name)) continue;
    names.add(name);
    if (isRecord(value)) {
      for (const inner of Object.keys(value)) if (shown(inner)) names.add(`${name}.${inner}`);
    } else if (Array.isArray(value) && value.some(isRecord)) {
      names.add(`${name}[]`);
      for (const item of value.slice(0, ITEMS_LOOKED_AT)) {
        if (isRecord(item)) for (const inner of Object.keys(item)) if (shown(inner)) names.add(`${name}[].${inner}`);
      }
    }
  }
  const sorted = [...names].sort();
  if (sorted.length > MAX_NAMES) {
    hidden += sorted.length - MAX_NAMES;
    sorted.length = MAX_NAMES;
  }
  if (hidden > 0) sorted.push(`(${hidden} other key${hidden === 1 ? '' : 's'})`);
  return sorted;
}

/** One field a row's decoder reads: `optional` when its absence is fine (an absent array reads as empty: not optional). */
export interface ExpectedField {
  path: string;
  optional: boolean;
}

/**
 * Stands in for an answer and notes every field the decoder asks for: the table's expectations, derived
 * from the decoder itself, so they can never drift from it. Optional objects are "present", so the fields
 * read inside them are listed too.
 */
class ExpectationRecorder extends Fields {
  constructor(
    private readonly seen: Map<string, boolean>,
    prefix: string,
  ) {
    super({}, 'expectations', prefix);
  }

  private note(name: string, optional: boolean): string {
    const path = this.pathOf(name);
    // Read as required anywhere: required.
    this.seen.set(path, (this.seen.get(path) ?? true) && optional);
    return path;
  }

  override string(name: string): string {
    this.note(name, false);
    return 'x';
  }

  override optionalString(name: string): string {
    this.note(name, true);
    return 'x';
  }

  override number(name: string): number {
    this.note(name, false);
    return 1;
  }

  override boolean(name: string): boolean {
    this.note(name, false);
    return true;
  }

  override stringArray(name: string): string[] {
    this.note(name, false);
    return [];
  }

  override objectArray(name: string): Fields[] {
    const path = this.note(name, false);
    return [new ExpectationRecorder(this.seen, `${path}[]`)];
  }

  override optionalObject(name: string): Fields {
    return new ExpectationRecorder(this.seen, this.note(name, true));
  }

  override object(name: string): Fields {
    return new ExpectationRecorder(this.seen, this.note(name, false));
  }

  override oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    this.note(name, false);
    const first = allowed[0];
    if (first === undefined) throw new UnexpectedResponseError(`expectations: ${name} allows nothing`, { operation: 'expectations' });
    return first;
  }

  override get record(): Record<string, unknown> {
    return {};
  }
}

/** The `result` every JSON answer carries (doc), then what the row's decoder reads; none for a binary row. */
export function expectedFields(endpoint: Endpoint<never, unknown>, operation: string): ExpectedField[] {
  if (endpoint.binary) return [];
  const seen = new Map<string, boolean>([['result', false]]);
  endpoint.decode({ kind: 'json', fields: new ExpectationRecorder(seen, '') }, operation);
  return [...seen].map(([path, optional]) => ({ path, optional })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Required fields the answer lacks, among those the shape can show (top level, and one level down where
 * the answer shows that level at all: an absent optional object or an empty array hides its fields).
 */
export function missingFields(expected: readonly ExpectedField[], seen: readonly string[]): string[] {
  const present = new Set(seen);
  return expected
    .filter(({ path, optional }) => {
      if (optional || present.has(path)) return false;
      const cut = path.lastIndexOf('.');
      if (cut < 0) return true;
      const parent = path.slice(0, cut);
      if (parent.includes('.')) return false;
      return seen.some((name) => name.startsWith(`${parent}.`));
    })
    .map(({ path }) => path);
}
