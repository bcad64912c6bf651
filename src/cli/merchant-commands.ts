/** `merchants list`, `merchants onboard`, `merchants ext`. */
import type { Merchant } from '../../web/src/api/shapes.ts';
import { allPages, ok } from './api-client.ts';
import { type Command, flag, intOption, oneOf, stringOption } from './command.ts';
import { time, table } from './output.ts';

const list: Command = {
  group: 'merchants',
  name: 'list',
  summary: 'merchants (authorized mini-programs)',
  usage: '[--status authorized|revoked] [--q <text>] [--limit <n>] [--all]',
  help: [
    '--status <status>   authorized or revoked',
    '--q <text>          app id or name contains',
    '--limit <n>         at most n merchants, 1…200 (default 50; with --all: the page size)',
    '--all               every merchant (follows nextCursor)',
  ],
  options: { status: { type: 'string' }, q: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean' } },
  async run({ values, api, out }) {
    const query = { status: oneOf(values, 'status', ['authorized', 'revoked']), q: stringOption(values, 'q') };
    const limit = intOption(values, 'limit', { min: 1, max: 200 });
    const page = flag(values, 'all')
      ? { items: await allPages((cursor) => ok(api.rest.GET('/api/v1/merchants', { params: { query: { ...query, limit: limit ?? 200, cursor } } }))), nextCursor: null }
      : await ok(api.rest.GET('/api/v1/merchants', { params: { query: { ...query, limit } } }));
    if (out.json) return out.data(page);
    if (page.items.length === 0) return out.note('no merchants');
    const audit = (m: Merchant): string => (m.lastAudit ? `${m.lastAudit.userVersion} ${m.lastAudit.state}` : '-');
    const rows = page.items.map((m) => [m.appId, m.name ?? '-', m.status, time(m.authorizedAt), audit(m)]);
    for (const line of table(['APP ID', 'NAME', 'STATUS', 'AUTHORIZED', 'LAST AUDIT'], rows)) out.line(line);
    if (page.nextCursor) out.note('(more merchants: --all)');
  },
};

const onboard: Command = {
  group: 'merchants',
  name: 'onboard',
  summary: 'onboard a merchant now, as its authorization would (a failed onboarding starts again)',
  usage: '<appId>',
  args: ['appId'],
  async run({ args, api, out }) {
    const appId = args[0] ?? '';
    // No body: the route takes none.
    const answer = await ok(api.rest.POST('/api/v1/merchants/{appId}/onboarding/start', { params: { path: { appId } } }));
    if (out.json) return out.data(answer);
    const why = answer.reason ? ` (${answer.reason})` : '';
    const rollout = answer.rolloutId && answer.outcome === 'started' ? `, rollout ${answer.rolloutId}` : '';
    out.line(`${appId}: ${answer.outcome}${why}${rollout}; onboarding ${answer.onboarding.status}${answer.onboarding.channel ? ` on channel ${answer.onboarding.channel}` : ''}`);
  },
};

const ext: Command = {
  group: 'merchants',
  name: 'ext',
  summary: "the ext.json an upload to the merchant would send now (extEnable, extAppId, ext, app config)",
  usage: '<appId> [--template <id>]',
  args: ['appId'],
  help: ['--template <id>     the template (default: the newest synced)'],
  options: { template: { type: 'string' } },
  async run({ args, values, api, out }) {
    const appId = args[0] ?? '';
    const templateId = intOption(values, 'template', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const preview = await ok(api.rest.GET('/api/v1/merchants/{appId}/ext/preview', { params: { path: { appId }, query: { templateId } } }));
    if (out.json) return out.data(preview);
    out.note(`template ${preview.templateId}, merchant ${preview.appId}`);
    for (const line of JSON.stringify(preview.extJson, null, 2).split('\n')) out.line(line);
  },
};

export const merchantCommands: Command[] = [list, onboard, ext];
