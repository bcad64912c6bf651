/**
 * Where the CLI writes: stdout for results (only JSON in --json mode), stderr for everything else.
 * Every write goes through `redact`, so the API key in use never reaches a terminal or a log.
 */

export interface Output {
  readonly json: boolean;
  /** stdout is a terminal (live redraws allowed). */
  readonly tty: boolean;
  /** A line of the result on stdout (human mode). */
  line(text?: string): void;
  /** Raw text on stdout (human mode, for redraws). */
  raw(text: string): void;
  /** One JSON document on stdout: pretty by default, one line when `compact` (NDJSON). */
  data(value: unknown, compact?: boolean): void;
  /** A note on stderr (progress, hints, warnings). */
  note(text: string): void;
}

export function createOutput(options: { json: boolean; secrets: readonly string[] }): Output {
  const secrets = options.secrets.filter((secret) => secret.length >= 6);
  const redact = (text: string): string => secrets.reduce((out, secret) => out.split(secret).join('***'), text);
  const stdout = (text: string): void => void process.stdout.write(redact(text));
  const stderr = (text: string): void => void process.stderr.write(redact(text));
  return {
    json: options.json,
    tty: Boolean(process.stdout.isTTY) && !options.json,
    line: (text = '') => {
      if (!options.json) stdout(`${text}\n`);
    },
    raw: (text) => {
      if (!options.json) stdout(text);
    },
    data: (value, compact = false) => stdout(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`),
    note: (text) => stderr(`${text}\n`),
  };
}

/** Display width: CJK and full-width characters take two columns. */
function width(text: string): number {
  let columns = 0;
  for (const char of text) columns += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(char) ? 2 : 1;
  return columns;
}

/** A plain text table: a header row, then rows, columns padded to the widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column] ?? ''))));
  const format = (row: readonly string[]): string =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - width(cell))))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

/** Epoch ms as `YYYY-MM-DD HH:MM` in local time; `-` for none. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const at = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}
