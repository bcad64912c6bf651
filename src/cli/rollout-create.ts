/** `rollout create`: the body of POST /api/v1/rollouts from flags, then optionally a watch. */
import { readFile } from 'node:fs/promises';
import { type Command, flag, intOption, listOption, type OptionValues, requiredString, stringOption } from './command.ts';
import { UsageError } from './errors.ts';
import type { NewRollout, RolloutTargets, Wave } from '../../web/src/api/shapes.ts';
import { ok } from './api-client.ts';
import { frame } from './progress-view.ts';
import { watchRollout } from './watch.ts';

/** `1,10%,rest`: whole numbers are counts, `N%` shares of the targets, `rest` (last only) what is left. */
export function parseWaves(text: string): Wave[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length > 20) throw new UsageError('--waves takes at most 20 waves');
  return parts.map((part, index) => {
    if (part === 'rest') {
      if (index !== parts.length - 1) throw new UsageError("--waves: 'rest' can only be the last wave");
      return { percent: 100 };
    }
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(part);
    if (percent) {
      const value = Number(percent[1]);
      if (value <= 0 || value > 100) throw new UsageError(`--waves: '${part}' must be a share above 0% and at most 100%`);
      return { percent: value };
    }
    if (/^\d+$/.test(part) && Number(part) >= 1) return { count: Number(part) };
    throw new UsageError(`--waves: '${part}' is neither a count (10), a share (10%) nor 'rest'`, 'example: --waves 1,10%,rest');
  });
}

/** A share from 0 to 1, or a percentage (`20%`). */
export function failureRate(values: OptionValues): number | undefined {
  const text = stringOption(values, 'max-failure-rate');
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  const rate = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  if (!(rate >= 0 && rate <= 1)) throw new UsageError(`--max-failure-rate must be from 0 to 1 (or 0% to 100%), got '${text}'`);
  return rate;
}

/** App ids from a file (or `-` for stdin): separated by lines, commas or spaces; `#` starts a comment. */
async function readAppFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--app-file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((id) => id !== '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function targetsOf(values: OptionValues): Promise<RolloutTargets> {
  const appIds = [...listOption(values, 'app')];
  const file = stringOption(values, 'app-file');
  if (file !== undefined) appIds.push(...(await readAppFile(file)));
  const q = stringOption(values, 'q');
  const chosen = [flag(values, 'all'), appIds.length > 0 || file !== undefined, q !== undefined].filter(Boolean).length;
  if (chosen === 0) throw new UsageError('choose the merchants: --all, --app <id>, --app-file <file> or --q <text>');
  if (chosen > 1) throw new UsageError('--all, --app/--app-file and --q exclude each other');
  if (flag(values, 'all')) return { all: true };
  if (q !== undefined) return { q };
  if (appIds.length === 0) throw new UsageError(`--app-file: no app id in ${file}`);
  return { appIds: [...new Set(appIds)] };
}

export const createCommand: Command = {
  group: 'rollout',
  name: 'create',
  summary: 'start a rollout of a template version to many merchants',
  usage: '--template <id> --version <userVersion> (--all | --app <id>… | --app-file <file> | --q <text>) [options]',
  help: [
    '--template <id>           template id (GET /api/v1/templates)',
    '--version <userVersion>   the version merchants get, e.g. 1.4.0',
    '--desc <text>             version description',
    '--all                     every authorized merchant',
    '--app <id>                a merchant (repeat, or comma-separated)',
    '--app-file <file>         app ids, one per line (# comments; - for stdin)',
    '--q <text>                authorized merchants whose app id or name matches',
    '--waves <list>            e.g. 1,10%,rest: counts, shares, the rest (default: one wave)',
    '--no-auto-release         wait for `rollout release` after the audits pass',
    '--max-failure-rate <r>    pause past this share of failed+rejected, 0…1 or N% (server default)',
    '--concurrency <n>         merchants in flight at once, 1…1000 (server default)',
    '--watch                   then follow the progress like `rollout watch`',
  ],
  options: {
    template: { type: 'string' },
    version: { type: 'string' },
    desc: { type: 'string' },
    all: { type: 'boolean' },
    app: { type: 'string', multiple: true },
    'app-file': { type: 'string' },
    q: { type: 'string' },
    waves: { type: 'string' },
    'no-auto-release': { type: 'boolean' },
    'max-failure-rate': { type: 'string' },
    concurrency: { type: 'string' },
    watch: { type: 'boolean' },
  },
  async run({ values, api, out }) {
    const templateId = intOption(values, 'template', { min: 0, max: Number.MAX_SAFE_INTEGER });
    if (templateId === undefined) throw new UsageError('--template <id> is required');
    const body: NewRollout = {
      templateId,
      userVersion: requiredString(values, 'version', '<userVersion>'),
      userDesc: stringOption(values, 'desc') ?? '',
      targets: await targetsOf(values),
      ...(values.waves === undefined ? {} : { waves: parseWaves(requiredString(values, 'waves', '<list>')) }),
      ...(flag(values, 'no-auto-release') ? { autoRelease: false } : {}),
      ...(values['max-failure-rate'] === undefined ? {} : { maxFailureRate: failureRate(values) }),
      ...(values.concurrency === undefined ? {} : { concurrency: intOption(values, 'concurrency', { min: 1, max: 1000 }) }),
    };
    const created = await ok(api.rest.POST('/api/v1/rollouts', { body }));
    if (flag(values, 'watch')) {
      if (!out.json) out.line(`created rollout ${created.rollout.id} (${created.progress.total} merchants)`);
      return watchRollout(api, out, created.rollout.id);
    }
    if (out.json) return out.data(created);
    out.line(`created rollout ${created.rollout.id}: ${created.progress.total} merchants in ${created.rollout.waves.length} wave(s)`);
    for (const line of frame(created).slice(1)) out.line(line);
    out.line(`follow it: ks-isv rollout watch ${created.rollout.id}`);
  },
};
