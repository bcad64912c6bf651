/**
 * `domains plan|apply`: a domain policy (server request domains, webview domains) for many merchants,
 * through POST /api/v1/domain-policies — an API the server does not have yet: a 404 is "not available".
 * Sends `{targets, serverDomains: {request}, webviewDomains, dryRun}`; shows the per-merchant diff of
 * `{items: [{appId, add: {...}, remove: {...}}]}`.
 */
import { type Command, flag, listOption, type OptionValues } from './command.ts';
import { ApiError, NotAvailableError, UsageError } from './errors.ts';
import { table } from './output.ts';

const PATH = '/api/v1/domain-policies';

interface DiffItem {
  appId?: unknown;
  add?: unknown;
  remove?: unknown;
}

function bodyOf(values: OptionValues, dryRun: boolean): Record<string, unknown> {
  const request = listOption(values, 'server-request');
  const webview = listOption(values, 'webview');
  const appIds = listOption(values, 'app');
  if (request.length === 0 && webview.length === 0) throw new UsageError('give at least one --server-request <url> or --webview <url>');
  if (flag(values, 'all') === appIds.length > 0) throw new UsageError('choose the merchants: --all or --app <id>…');
  return {
    targets: flag(values, 'all') ? { all: true } : { appIds: [...new Set(appIds)] },
    ...(request.length > 0 ? { serverDomains: { request } } : {}),
    ...(webview.length > 0 ? { webviewDomains: webview } : {}),
    dryRun,
  };
}

/** One row per domain added or removed: APP, +/-, KIND, DOMAIN. */
export function diffRows(items: readonly DiffItem[]): string[][] {
  const rows: string[][] = [];
  for (const item of items) {
    const appId = typeof item.appId === 'string' ? item.appId : JSON.stringify(item.appId ?? '?');
    const before = rows.length;
    for (const [sign, change] of [['+', item.add], ['-', item.remove]] as const) {
      if (change === null || change === undefined) continue;
      const entries: [string, unknown][] = typeof change === 'object' && !Array.isArray(change) ? Object.entries(change) : [['', change]];
      for (const [kind, value] of entries) {
        for (const domain of Array.isArray(value) ? value : [value]) rows.push([appId, sign, kind, typeof domain === 'string' ? domain : JSON.stringify(domain)]);
      }
    }
    if (rows.length === before) rows.push([appId, '=', '', '(no change)']);
  }
  return rows;
}

function domainsCommand(name: 'plan' | 'apply'): Command {
  const dryRun = name === 'plan';
  return {
    group: 'domains',
    name,
    summary: dryRun ? 'show what a domain policy would change, per merchant (dry run)' : 'apply a domain policy to merchants',
    usage: '(--server-request <url>… | --webview <url>…) (--all | --app <id>…)',
    help: [
      '--server-request <url>   a server (request) domain, e.g. https://api.example.com (repeat, or comma-separated)',
      '--webview <url>          a webview (business) domain (repeat, or comma-separated)',
      '--all                    every authorized merchant',
      '--app <id>               a merchant (repeat, or comma-separated)',
      'Needs POST /api/v1/domain-policies on the server: exit 4 when it does not have it.',
    ],
    options: { 'server-request': { type: 'string', multiple: true }, webview: { type: 'string', multiple: true }, all: { type: 'boolean' }, app: { type: 'string', multiple: true } },
    async run({ values, api, out }) {
      const body = bodyOf(values, dryRun);
      let answer: { items?: unknown };
      try {
        answer = await api.post<{ items?: unknown }>(PATH, body);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) throw new NotAvailableError(`not available on this server yet (404 from ${PATH})`);
        throw error;
      }
      if (out.json) return out.data(answer);
      const items = Array.isArray(answer.items) ? (answer.items as DiffItem[]) : [];
      const rows = diffRows(items);
      if (rows.length > 0) for (const line of table(['APP', '±', 'KIND', 'DOMAIN'], rows)) out.line(line);
      const changed = new Set(rows.filter((row) => row[1] !== '=').map((row) => row[0])).size;
      out.line(dryRun ? `${changed} of ${items.length} merchant(s) would change (dry run: nothing changed)` : `${changed} of ${items.length} merchant(s) changed`);
    },
  };
}

export const domainCommands: Command[] = [domainsCommand('plan'), domainsCommand('apply')];
