/** `DATABASE_URL` → what to open. Messages never echo the URL: it may carry a password. */

export type DatabaseTarget =
  | { dialect: 'sqlite'; /** A file path, or `:memory:`. */ path: string }
  | { dialect: 'postgres'; connectionString: string; /** From `?schema=`: every connection works in it. */ schema?: string };

const USAGE = 'DATABASE_URL must be sqlite:<path>, sqlite::memory: or postgres://user@host:port/database[?schema=<name>]';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function parseDatabaseUrl(url: string): DatabaseTarget {
  const trimmed = url.trim();
  if (trimmed.startsWith('sqlite:')) {
    let path = trimmed.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path and sqlite://./rel/path
    if (path === '') throw new Error(`${USAGE}; the sqlite: URL has no path`);
    return { dialect: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(trimmed)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw new Error(`${USAGE}; the postgres URL does not parse`);
    }
    const schema = parsed.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(`${USAGE}; ?schema= must be a plain identifier (letters, digits, underscore)`);
    }
    parsed.searchParams.delete('schema');
    return { dialect: 'postgres', connectionString: parsed.toString(), ...(schema !== undefined && { schema }) };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(trimmed)?.[1];
  throw new Error(scheme ? `${USAGE}; "${scheme}:" is not supported` : USAGE);
}
