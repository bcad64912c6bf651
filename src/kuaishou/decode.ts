import { UnexpectedResponseError } from './errors.ts';

/**
 * Typed reads from an untrusted JSON object. A missing or mistyped field throws `UnexpectedResponseError`
 * naming the field and the operation, never its value (which may be a credential).
 */
export class Fields {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly operation: string,
    /** Where this object sits in the answer (`data.latest`, `templates[]`), so a failure names the whole path. */
    private readonly path = '',
  ) {}

  /** The path of a field of this object. */
  protected pathOf(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  private fail(name: string, expected: string): never {
    const field = this.pathOf(name);
    throw new UnexpectedResponseError(`${this.operation}: response field "${field}" is missing or not ${expected}`, {
      operation: this.operation,
      field,
    });
  }

  string(name: string): string {
    const value = this.raw[name];
    if (typeof value !== 'string' || value === '') this.fail(name, 'a non-empty string');
    return value;
  }

  optionalString(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') this.fail(name, 'a string');
    return value;
  }

  number(name: string): number {
    const value = this.raw[name];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    // Some gateways send numbers as numeric strings.
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
    return this.fail(name, 'a number');
  }

  boolean(name: string): boolean {
    const value = this.raw[name];
    if (typeof value !== 'boolean') this.fail(name, 'a boolean');
    return value;
  }

  stringArray(name: string): string[] {
    const value = this.raw[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) this.fail(name, 'a string array');
    return value;
  }

  objectArray(name: string): Fields[] {
    const value = this.raw[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every(isRecord)) this.fail(name, 'an array of objects');
    return value.map((item) => new Fields(item, this.operation, `${this.pathOf(name)}[]`));
  }

  /** A nested object, or undefined when absent or null. */
  optionalObject(name: string): Fields | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) this.fail(name, 'an object');
    return new Fields(value, this.operation, this.pathOf(name));
  }

  object(name: string): Fields {
    return this.optionalObject(name) ?? this.fail(name, 'an object');
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.raw[name];
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(name, `one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  get record(): Record<string, unknown> {
    return this.raw;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
