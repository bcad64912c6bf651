/** `rollout list|show|targets|watch|pause|resume|abort|rollback|release`. */
import { ROLLOUT_STATUSES, type RolloutTarget, TARGET_STATES } from '../../web/src/api/shapes.ts';
import { allPages, ok } from './api-client.ts';
import { type Command, flag, intOption, oneOf } from './command.ts';
import { time, table } from './output.ts';
import { countsText, frame, header } from './progress-view.ts';
import { createCommand } from './rollout-create.ts';
import { watchRollout } from './watch.ts';

const arg = (args: string[]): string => args[0] ?? '';

const list: Command = {
  group: 'rollout',
  name: 'list',
  summary: 'rollouts, newest first',
  usage: '[--status <status>] [--limit <n>]',
  help: [`--status <status>   ${ROLLOUT_STATUSES.join(', ')}`, '--limit <n>         at most n rollouts, 1…200 (default 50)'],
  options: { status: { type: 'string' }, limit: { type: 'string' } },
  async run({ values, api, out }) {
    const query = { status: oneOf(values, 'status', ROLLOUT_STATUSES), limit: intOption(values, 'limit', { min: 1, max: 200 }) };
    const page = await ok(api.rest.GET('/api/v1/rollouts', { params: { query } }));
    if (out.json) return out.data(page);
    if (page.items.length === 0) return out.note('no rollouts');
    const rows = page.items.map((r) =>
      r.kind === 'domains'
        ? [r.id, r.status, '-', '-', `${r.currentWave}/${r.waves.length}`, time(r.createdAt), 'domain policy']
        : [r.id, r.status, String(r.templateId), r.userVersion ?? '', `${r.currentWave}/${r.waves.length}`, time(r.createdAt), r.userDesc ?? ''],
    );
    for (const line of table(['ID', 'STATUS', 'TEMPLATE', 'VERSION', 'WAVE', 'CREATED', 'DESCRIPTION'], rows)) out.line(line);
    if (page.nextCursor) out.note('(more rollouts: raise --limit)');
  },
};

const show: Command = {
  group: 'rollout',
  name: 'show',
  summary: 'a rollout with its progress per wave',
  usage: '<id>',
  args: ['id'],
  async run({ args, api, out }) {
    const answer = await ok(api.rest.GET('/api/v1/rollouts/{id}', { params: { path: { id: arg(args) } } }));
    if (out.json) return out.data(answer);
    const { rollout: r, progress } = answer;
    out.line(header(answer));
    if (r.userDesc) out.line(`  description   ${r.userDesc}`);
    out.line(`  created       ${time(r.createdAt)}${r.createdBy ? ` by ${r.createdBy}` : ''}${r.finishedAt ? ` · finished ${time(r.finishedAt)}` : ''}`);
    out.line(`  settings      auto release ${r.autoRelease ? 'yes' : 'no'} · max failure rate ${Math.round(r.maxFailureRate * 100)}% · concurrency ${r.concurrency}`);
    out.line(`  merchants     ${progress.total}: ${countsText(progress.byState)}`);
    for (const line of frame(answer).slice(1)) out.line(line);
  },
};

const targets: Command = {
  group: 'rollout',
  name: 'targets',
  summary: "a rollout's merchants: state, attempts, last error",
  usage: '<id> [--state <state>] [--limit <n> | --all]',
  args: ['id'],
  help: [`--state <state>   ${TARGET_STATES.join(', ')}`, '--limit <n>       at most n merchants, 1…500 (default 100)', '--all             every merchant (follows the pages)'],
  options: { state: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean' } },
  async run({ args, values, api, out }) {
    const path = { id: arg(args) };
    const state = oneOf(values, 'state', TARGET_STATES);
    const limit = intOption(values, 'limit', { min: 1, max: 500 });
    const page = flag(values, 'all')
      ? { items: await allPages((cursor) => ok(api.rest.GET('/api/v1/rollouts/{id}/targets', { params: { path, query: { state, limit: 500, cursor } } }))), nextCursor: null }
      : await ok(api.rest.GET('/api/v1/rollouts/{id}/targets', { params: { path, query: { state, limit } } }));
    if (out.json) return out.data(page);
    if (page.items.length === 0) return out.note('no merchants');
    const error = (t: RolloutTarget): string => [t.lastErrorCode, t.lastError].filter(Boolean).join(': ');
    const rows = page.items.map((t) => [t.appId, String(t.wave), t.state, String(t.attempts), time(t.updatedAt), error(t)]);
    for (const line of table(['APP', 'WAVE', 'STATE', 'ATTEMPTS', 'UPDATED', 'LAST ERROR'], rows)) out.line(line);
    if (page.nextCursor) out.note('(more merchants: --all)');
  },
};

const watch: Command = {
  group: 'rollout',
  name: 'watch',
  summary: 'follow a rollout live until it ends (exit 5 if it did not complete cleanly)',
  usage: '<id>',
  args: ['id'],
  run: ({ args, api, out }) => watchRollout(api, out, arg(args)),
};

function lifecycle(name: 'pause' | 'resume' | 'abort' | 'rollback' | 'release', summary: string): Command {
  return {
    group: 'rollout',
    name,
    summary,
    usage: '<id>',
    args: ['id'],
    async run({ args, api, out }) {
      // An empty JSON body: the command takes none, and `{}` is what an empty one looks like.
      const answer = await ok(api.rest.POST(`/api/v1/rollouts/{id}/${name}`, { params: { path: { id: arg(args) } }, body: {} }));
      if (out.json) return out.data(answer);
      out.line(header(answer));
      out.line(`  merchants ${answer.progress.total}: ${countsText(answer.progress.byState)}`);
    },
  };
}

export const rolloutCommands: Command[] = [
  createCommand,
  list,
  show,
  targets,
  watch,
  lifecycle('pause', 'pause a running rollout'),
  lifecycle('resume', 'resume a paused rollout'),
  lifecycle('abort', 'abort: pending merchants are skipped'),
  lifecycle('rollback', 'roll back every merchant the rollout released'),
  lifecycle('release', 'release every merchant whose audit passed (rollouts without auto release)'),
];
