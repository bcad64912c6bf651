/**
 * `domains plan|apply`: a domain policy (server and webview domains) for many merchants, through
 * POST /api/v1/domain-policies. Each list given is the whole set wanted for that list; lists not given are
 * left alone. `plan` sends `dryRun: true` and shows the per-merchant diff (every page); `apply` sends
 * `dryRun: false`: the server starts a rollout of kind `domains`, shown (and followed with `--watch`)
 * like any rollout. A server without the API (404) is "not available" (exit 4).
 */
import type { DomainChange, DomainDrift, DomainDriftReport, DomainPolicyBody, RolloutWithProgress, ServerDomainList } from '../../web/src/api/shapes.ts';
import { type ApiClient, ok } from './api-client.ts';
import { type Command, flag, intOption, listOption, type OptionValues } from './command.ts';
import { ApiError, NotAvailableError, UsageError } from './errors.ts';
import { table } from './output.ts';
import { frame } from './progress-view.ts';
import { failureRate, parseWaves, targetsOf } from './rollout-create.ts';
import { watchRollout } from './watch.ts';

const PATH = '/api/v1/domain-policies';

/** CLI option → the server-domain list it sets. */
const SERVER_LISTS = { 'server-request': 'request', 'server-socket': 'socket', 'server-upload': 'uploadFile', 'server-download': 'downloadFile', 'server-udp': 'udp' } as const satisfies Record<string, ServerDomainList>;

type Policy = Omit<DomainPolicyBody, 'dryRun'>;

async function policyOf(values: OptionValues): Promise<Policy> {
  const serverDomains: Partial<Record<ServerDomainList, string[]>> = {};
  for (const [option, list] of Object.entries(SERVER_LISTS)) {
    const domains = listOption(values, option);
    if (domains.length > 0) serverDomains[list] = domains;
  }
  const webview = listOption(values, 'webview');
  if (Object.keys(serverDomains).length === 0 && webview.length === 0) throw new UsageError('give at least one --server-request <url> (or another --server-… list) or --webview <url>');
  return {
    targets: await targetsOf(values),
    ...(Object.keys(serverDomains).length > 0 ? { serverDomains } : {}),
    ...(webview.length > 0 ? { webviewDomains: webview } : {}),
  };
}

/** One row per domain added or removed: APP, +/-, LIST, DOMAIN; `=` for a merchant in sync, `!` for one that could not be read. */
export function diffRows(items: readonly DomainDrift[]): string[][] {
  const rows: string[][] = [];
  for (const { appId, error, server, webview } of items) {
    if (error) {
      rows.push([appId, '!', error.code, error.message]);
      continue;
    }
    const lists: [string, DomainChange | null | undefined][] = [...Object.entries(server ?? {}), ['webview', webview]];
    const before = rows.length;
    for (const [list, diff] of lists) {
      for (const domain of diff?.add ?? []) rows.push([appId, '+', list, domain]);
      for (const domain of diff?.remove ?? []) rows.push([appId, '-', list, domain]);
    }
    if (rows.length === before) rows.push([appId, '=', '', '(in sync)']);
  }
  return rows;
}

/** POST /api/v1/domain-policies; a server without it (404 not_found) does not have the feature. */
async function post(api: ApiClient, body: DomainPolicyBody) {
  try {
    return await ok(api.rest.POST(PATH, { body }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') throw new NotAvailableError(`not available on this server (404 from ${PATH})`);
    throw error;
  }
}

const common = {
  group: 'domains',
  usage: '(--server-request <url>… | --webview <url>… | …) (--all | --app <id>… | --app-file <file> | --q <text>)',
  options: {
    'server-request': { type: 'string', multiple: true },
    'server-socket': { type: 'string', multiple: true },
    'server-upload': { type: 'string', multiple: true },
    'server-download': { type: 'string', multiple: true },
    'server-udp': { type: 'string', multiple: true },
    webview: { type: 'string', multiple: true },
    all: { type: 'boolean' },
    app: { type: 'string', multiple: true },
    'app-file': { type: 'string' },
    q: { type: 'string' },
  },
} as const;

const listHelp = [
  '--server-request <url>    the request domains wanted, e.g. https://api.example.com (repeat, or comma-separated)',
  '--server-socket <url>     socket domains (wss://…); --server-upload, --server-download (https://…), --server-udp (udp://…) likewise',
  '--webview <url>           the webview (business) domains wanted',
  'A list given replaces that list on every merchant; a list not given is left alone.',
  '--all | --app <id>… | --app-file <file> | --q <text>   the merchants, as for `rollout create`',
];

const plan: Command = {
  ...common,
  name: 'plan',
  summary: 'show what a domain policy would change, per merchant (dry run: nothing changes)',
  help: listHelp,
  async run({ values, api, out }) {
    const body = { ...(await policyOf(values)), dryRun: true };
    const items: DomainDrift[] = [];
    const totals = { targets: 0, inSync: 0, drifting: 0, unreadable: 0 };
    let cursor: string | null | undefined;
    do {
      // A dry run answers 200: the drift report (201, a rollout, is what applying answers).
      const page = (await post(api, { ...body, limit: 500, ...(cursor ? { cursor } : {}) })) as DomainDriftReport;
      items.push(...page.items);
      totals.targets = page.summary.targets;
      totals.inSync += page.summary.inSync;
      totals.drifting += page.summary.drifting;
      totals.unreadable += page.summary.unreadable;
      cursor = page.nextCursor;
    } while (cursor);
    if (out.json) return out.data({ items, summary: totals });
    const rows = diffRows(items);
    if (rows.length > 0) for (const line of table(['APP', '±', 'LIST', 'DOMAIN'], rows)) out.line(line);
    out.line(`${totals.targets} merchant(s): ${totals.inSync} in sync · ${totals.drifting} would change · ${totals.unreadable} unreadable (dry run: nothing changed)`);
  },
};

const apply: Command = {
  ...common,
  options: {
    ...common.options,
    waves: { type: 'string' },
    'max-failure-rate': { type: 'string' },
    concurrency: { type: 'string' },
    watch: { type: 'boolean' },
  },
  name: 'apply',
  summary: 'apply a domain policy to merchants: a rollout of kind domains (progress, retries, report)',
  usage: `${common.usage} [--waves <list>] [--max-failure-rate <r>] [--concurrency <n>] [--watch]`,
  help: [...listHelp, '--waves, --max-failure-rate, --concurrency   as for `rollout create`', '--watch                   then follow it like `rollout watch`'],
  async run({ values, api, out }) {
    const body: DomainPolicyBody = {
      ...(await policyOf(values)),
      dryRun: false,
      ...(values.waves === undefined ? {} : { waves: parseWaves(String(values.waves)) }),
      ...(values['max-failure-rate'] === undefined ? {} : { maxFailureRate: failureRate(values) }),
      ...(values.concurrency === undefined ? {} : { concurrency: intOption(values, 'concurrency', { min: 1, max: 1000 }) }),
    };
    // Applied, the policy answers 201: the rollout of kind `domains` it started.
    const created = (await post(api, body)) as RolloutWithProgress;
    if (flag(values, 'watch')) {
      if (!out.json) out.line(`created domain rollout ${created.rollout.id} (${created.progress.total} merchants)`);
      return watchRollout(api, out, created.rollout.id);
    }
    if (out.json) return out.data(created);
    out.line(`created domain rollout ${created.rollout.id}: ${created.progress.total} merchants in ${created.rollout.waves.length} wave(s)`);
    for (const line of frame(created).slice(1)) out.line(line);
    out.line(`follow it: ks-isv rollout watch ${created.rollout.id}`);
  },
};

export const domainCommands: Command[] = [plan, apply];
