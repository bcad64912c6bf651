/**
 * Correcting the endpoint table without a fork: a provider who learns (from the probe, or from Kuaishou)
 * that a row's path or method is not the platform's gives the right ones in a small JSON document —
 * `{ "A7": { "path": "/…", "method": "GET" } }`, keyed by row id or operation name. Only `path` and
 * `method` can change: parameter names and decoders are code (`endpoints.ts`), and a document that
 * tried to reach them would be a fork in disguise.
 *
 * Overrides make a new table; `ENDPOINTS` itself is never changed, so several clients in one process (the
 * tests start many services) each keep their own, and the sandbox keeps answering the original table.
 */
import { ENDPOINTS, type Endpoint, type Operation } from './endpoints.ts';

export type HttpMethod = 'GET' | 'POST';

export interface EndpointOverride {
  path?: string;
  method?: HttpMethod;
}

/** Validated overrides, by operation name. */
export type EndpointOverrides = Partial<Record<Operation, EndpointOverride>>;

/** Overrides as a caller writes them: keyed by row id (`A7`) or operation name (`getVersions`). */
export type EndpointOverridesInput = Readonly<Record<string, EndpointOverride>>;

/** The table a client speaks: `ENDPOINTS`, or a copy with some rows' path and method overridden. */
export type EndpointTable = typeof ENDPOINTS;

/** A bad overrides document; `row` names the entry at fault (as the document spelled it). */
export class EndpointOverrideError extends Error {
  override name = 'EndpointOverrideError';

  constructor(
    readonly row: string | undefined,
    message: string,
  ) {
    super(row === undefined ? message : `${row}: ${message}`);
  }
}

const OPERATIONS = Object.keys(ENDPOINTS) as Operation[];
const BY_ROW = new Map<string, Operation>(OPERATIONS.map((operation) => [ENDPOINTS[operation].row, operation]));
const METHODS: readonly string[] = ['GET', 'POST'];
const MAX_PATH = 512;

/** The operation a document key names: a row id (`A7`) or an operation name (`getVersions`). */
export function operationOf(key: string): Operation | undefined {
  return BY_ROW.get(key) ?? OPERATIONS.find((operation) => operation === key);
}

function checkPath(key: string, path: unknown): string {
  if (typeof path !== 'string') throw new EndpointOverrideError(key, '"path" must be a string');
  if (!path.startsWith('/')) throw new EndpointOverrideError(key, `"path" must start with "/" (got "${path.slice(0, 80)}")`);
  if (path.length > MAX_PATH) throw new EndpointOverrideError(key, `"path" is longer than ${MAX_PATH} characters`);
  // The query string and fragment are the client's (credentials go there); `..` could climb out of the base URL's path.
  if (/[?#]/.test(path)) throw new EndpointOverrideError(key, '"path" must not contain "?" or "#" (the client writes the query string)');
  if (/\s/.test(path)) throw new EndpointOverrideError(key, '"path" must not contain whitespace');
  if (path.includes('..')) throw new EndpointOverrideError(key, '"path" must not contain ".."');
  if (path.includes('//')) throw new EndpointOverrideError(key, '"path" must not contain an empty segment ("//")');
  return path;
}

/**
 * Checks an overrides document (already parsed from JSON): an object of rows, each an object with `path`
 * and/or `method` and nothing else. Throws `EndpointOverrideError` naming the first row at fault.
 */
export function parseEndpointOverrides(document: unknown): EndpointOverrides {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new EndpointOverrideError(undefined, 'the overrides must be a JSON object of rows: { "A7": { "path": "/…", "method": "GET" } }');
  }
  const overrides: EndpointOverrides = {};
  const keyOf = new Map<Operation, string>();
  for (const [key, entry] of Object.entries(document as Record<string, unknown>)) {
    const operation = operationOf(key);
    if (operation === undefined) {
      const hint = key === 'T7' ? ' (T7, the authorization page, is not overridable)' : ` (rows: ${[...BY_ROW.keys()].join(', ')}, or their operation names)`;
      throw new EndpointOverrideError(key, `unknown row${hint}`);
    }
    const earlier = keyOf.get(operation);
    if (earlier !== undefined) throw new EndpointOverrideError(key, `names the same row as "${earlier}"`);
    keyOf.set(operation, key);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new EndpointOverrideError(key, 'must be an object with "path" and/or "method"');
    }
    const fields = entry as Record<string, unknown>;
    const other = Object.keys(fields).find((name) => name !== 'path' && name !== 'method');
    if (other !== undefined) throw new EndpointOverrideError(key, `only "path" and "method" can be overridden, not "${other.slice(0, 40)}"`);
    if (fields.path === undefined && fields.method === undefined) throw new EndpointOverrideError(key, 'gives neither "path" nor "method"');
    const override: EndpointOverride = {};
    if (fields.path !== undefined) override.path = checkPath(key, fields.path);
    if (fields.method !== undefined) {
      if (typeof fields.method !== 'string' || !METHODS.includes(fields.method)) {
        throw new EndpointOverrideError(key, `"method" must be "GET" or "POST" (got ${JSON.stringify(fields.method).slice(0, 40)})`);
      }
      // A POST row's parameters travel in its JSON body, which a GET cannot carry: that needs a new encode.
      if (fields.method === 'GET' && ENDPOINTS[operation].method === 'POST') {
        throw new EndpointOverrideError(key, 'sends a JSON body, so it cannot become a GET here (change its encode in endpoints.ts)');
      }
      override.method = fields.method as HttpMethod;
    }
    overrides[operation] = override;
  }
  return overrides;
}

/** The table with `overrides` applied (validated again, for library callers that build them by hand). */
export function resolveEndpoints(overrides: EndpointOverridesInput | undefined): EndpointTable {
  if (overrides === undefined || Object.keys(overrides).length === 0) return ENDPOINTS;
  const valid = parseEndpointOverrides(overrides);
  const table: Record<string, Endpoint<never, unknown>> = { ...ENDPOINTS };
  for (const [operation, override] of Object.entries(valid) as [Operation, EndpointOverride][]) {
    table[operation] = { ...(ENDPOINTS[operation] as Endpoint<never, unknown>), ...override };
  }
  return table as EndpointTable;
}

/** Whether `table`'s row for `operation` differs from the built-in one in path or method. */
export function isOverridden(table: EndpointTable, operation: Operation): boolean {
  const own = table[operation];
  const builtIn = ENDPOINTS[operation];
  return own.path !== builtIn.path || own.method !== builtIn.method;
}

/** The rows of `table` that differ from the built-in table, in table order (row ids). */
export function overriddenRows(table: EndpointTable): string[] {
  return OPERATIONS.filter((operation) => isOverridden(table, operation)).map((operation) => ENDPOINTS[operation].row);
}
