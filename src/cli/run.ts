/**
 * `ks-isv <group> <command> [args] [options]`: finds the command, parses its options with node:util
 * parseArgs (global options anywhere), runs it against the REST API and maps failures to exit codes.
 */
import { parseArgs } from 'node:util';
import { ApiClient } from './api-client.ts';
import { commandWords, type Command, type OptionsConfig, type OptionValues } from './command.ts';
import { domainCommands } from './domain-commands.ts';
import { ApiError, CliError, EXIT, NotAvailableError, UnreachableError, UsageError } from './errors.ts';
import { keyCommands } from './key-commands.ts';
import { merchantCommands } from './merchant-commands.ts';
import { createOutput, type Output } from './output.ts';
import { probeCommands } from './probe-command.ts';
import { rolloutCommands } from './rollout-commands.ts';
import { runtimeCommands } from './runtime-commands.ts';

const DEFAULT_URL = 'http://127.0.0.1:3000';
const COMMANDS: readonly Command[] = [...rolloutCommands, ...merchantCommands, ...keyCommands, ...domainCommands, ...runtimeCommands, ...probeCommands];
const GROUPS = [...new Set(COMMANDS.map((command) => command.group))];

const GLOBAL_OPTIONS: OptionsConfig = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const GLOBAL_HELP = [
  `--url <url>   the REST API (default: $KS_ISV_URL or ${DEFAULT_URL})`,
  '--key <key>   API key (default: $KS_ISV_KEY)',
  '--json        machine-readable output on stdout (errors as JSON on stderr)',
  '-h, --help    help for a command',
];
const EXIT_HELP = ['0 ok · 1 API error (probe: a row differs or was refused) · 2 usage error · 3 server unreachable · 4 not available on the server · 5 watch: rollout not completed cleanly'];

type Env = Record<string, string | undefined>;

const indent = (lines: readonly string[]): string[] => lines.map((line) => `  ${line}`);

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => commandWords(command).length));
  return [
    'usage: ks-isv <command> [arguments] [options]',
    '',
    'Operates a ks-isv server through its REST API.',
    '',
    'commands:',
    ...indent(COMMANDS.map((command) => `${commandWords(command).padEnd(width)}  ${command.summary}`)),
    '',
    'global options:',
    ...indent(GLOBAL_HELP),
    '',
    'exit codes:',
    ...indent(EXIT_HELP),
    '',
    "'ks-isv <command> --help' for a command's options; docs/cli.md for more.",
  ].join('\n');
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((command) => command.group === group);
  return [
    `usage: ks-isv ${group} <${commands.map((command) => command.name).join('|')}> [arguments] [options]`,
    '',
    ...commands.map((command) => `  ${`ks-isv ${group} ${command.name} ${command.usage}`.trimEnd()}\n      ${command.summary}`),
    '',
    `'ks-isv ${group} <command> --help' for a command's options.`,
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `usage: ks-isv ${commandWords(command)} ${command.usage}`.trimEnd(),
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    ...(command.help?.length ? ['', 'options:', ...indent(command.help)] : []),
    '',
    'global options:',
    ...indent(GLOBAL_HELP),
  ].join('\n');
}

/** The command words (`rollout create`) and the rest of the arguments, global options allowed before them. */
function split(argv: readonly string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let optionsStarted = false;
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] ?? '';
    if (token === '--url' || token === '--key') {
      rest.push(token, ...argv.slice(index + 1, index + 2));
      index++;
    } else if (token.startsWith('-')) {
      if (!/^(--json|--help|-h|--url=.*|--key=.*)$/.test(token)) optionsStarted = true;
      rest.push(token);
    } else if (!optionsStarted && words.length < 2) words.push(token);
    else rest.push(token);
  }
  return { words, rest };
}

/** The API key's value in the arguments or the environment, to keep it out of every output. */
function secretsOf(argv: readonly string[], env: Env): string[] {
  const secrets = env.KS_ISV_KEY ? [env.KS_ISV_KEY] : [];
  argv.forEach((token, index) => {
    if (token === '--key' && argv[index + 1]) secrets.push(argv[index + 1] ?? '');
    if (token.startsWith('--key=')) secrets.push(token.slice('--key='.length));
  });
  return secrets;
}

function parseError(error: unknown): UsageError {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option ${option ?? message}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return new UsageError(/argument missing/.test(message) ? `option ${option} needs a value` : `option ${option} takes no value`);
  }
  return new UsageError(message);
}

function findCommand(words: string[]): Command | string {
  const [group, name] = words;
  if (group === undefined) return mainHelp();
  if (!GROUPS.includes(group)) throw new UsageError(`unknown command '${group}'`, `commands: ${GROUPS.join(', ')} (ks-isv --help)`);
  // A command of one word: a second word is one of its arguments (the caller puts it back).
  const single = COMMANDS.find((candidate) => candidate.group === group && candidate.name === '');
  if (single) return single;
  if (name === undefined) return groupHelp(group);
  const command = COMMANDS.find((candidate) => candidate.group === group && candidate.name === name);
  if (!command) {
    const names = COMMANDS.filter((candidate) => candidate.group === group).map((candidate) => candidate.name);
    throw new UsageError(`unknown command '${group} ${name}'`, `${group} commands: ${names.join(', ')} (ks-isv ${group} --help)`);
  }
  return command;
}

function baseUrl(values: OptionValues, env: Env): URL {
  const text = (typeof values.url === 'string' ? values.url : undefined) ?? (env.KS_ISV_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url '${text}' is not a URL`, `e.g. --url ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, got '${url.protocol}'`);
  return url;
}

function apiKey(values: OptionValues, env: Env): string | undefined {
  const key = (typeof values.key === 'string' ? values.key : undefined) ?? env.KS_ISV_KEY;
  if (!key) return undefined;
  // Never echoed: an invalid header value would otherwise end up in fetch's error message.
  if (!/^[\x21-\x7e]+$/.test(key)) throw new UsageError('the API key (--key or KS_ISV_KEY) has characters an HTTP header cannot carry');
  return key;
}

function report(error: unknown, out: Output, where: string, hasKey: boolean): number {
  if (!(error instanceof CliError)) {
    out.note(`error: internal: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.api;
  }
  const code =
    error instanceof ApiError ? error.code : error instanceof UsageError ? 'usage' : error instanceof UnreachableError ? 'unreachable' : error instanceof NotAvailableError ? 'not_available' : 'error';
  out.note(error instanceof ApiError ? `error: ${error.code}: ${error.message}` : `error: ${error.message}`);
  if (error instanceof UsageError) out.note(`hint: ${error.hint ?? `ks-isv ${where} --help`}`);
  if (error instanceof UnreachableError) out.note('hint: is the server running? (--url or KS_ISV_URL)');
  if (error instanceof ApiError && error.status === 401 && !hasKey) out.note('hint: give an API key: --key or KS_ISV_KEY');
  if (out.json) {
    const details = error instanceof ApiError ? error.details : error instanceof UsageError && error.hint ? { hint: error.hint } : {};
    out.note(JSON.stringify({ error: { code, message: error.message, details, ...(error instanceof ApiError ? { status: error.status } : {}) } }));
  } else if (error instanceof ApiError && Object.keys(error.details).length > 0) {
    out.note(`details: ${JSON.stringify(error.details)}`);
  }
  return error.exitCode;
}

export async function run(argv: readonly string[], env: Env): Promise<number> {
  const out = createOutput({ json: argv.includes('--json'), secrets: secretsOf(argv, env) });
  const { words, rest } = split(argv);
  if (words[0] === 'help') words.shift();
  const helpAsked = argv.includes('--help') || argv.includes('-h') || argv[0] === 'help';
  let where = words.slice(0, 2).join(' ');
  let hasKey = false;
  try {
    const found = findCommand(words);
    if (typeof found === 'string') {
      (helpAsked ? process.stdout : process.stderr).write(`${found}\n`);
      return helpAsked ? EXIT.ok : EXIT.usage;
    }
    const command = found;
    where = commandWords(command);
    if (command.name === '' && words[1] !== undefined) rest.unshift(words[1]);
    if (helpAsked) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return EXIT.ok;
    }
    let parsed: { values: OptionValues; positionals: string[] };
    try {
      parsed = parseArgs({ args: [...rest], options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    } catch (error) {
      throw parseError(error);
    }
    const expected = command.args ?? [];
    if (parsed.positionals.length < expected.length) throw new UsageError(`missing <${expected[parsed.positionals.length]}>`, `usage: ks-isv ${where} ${command.usage}`);
    if (parsed.positionals.length > expected.length) throw new UsageError(`unexpected argument '${parsed.positionals[expected.length]}'`, `usage: ks-isv ${where} ${command.usage}`);
    const key = apiKey(parsed.values, env);
    hasKey = key !== undefined;
    const api = new ApiClient({ baseUrl: baseUrl(parsed.values, env), key });
    return (await command.run({ values: parsed.values, args: parsed.positionals, api, out })) ?? EXIT.ok;
  } catch (error) {
    return report(error, out, where || '', hasKey);
  }
}
