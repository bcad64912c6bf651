/** `merchants list`, `merchants onboard`. */
import { allPages, type Page } from './api-client.ts';
import { type Command, flag, intOption, oneOf, stringOption } from './command.ts';
import { time, table } from './output.ts';

interface Merchant {
  appId: string;
  name: string | null;
  status: string;
  authorizedAt: number;
  lastAudit: { userVersion: string; state: string } | null;
}

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
    const page: Page<Merchant> = flag(values, 'all')
      ? { items: await allPages<Merchant>(api, '/api/v1/merchants', query, limit ?? 200), nextCursor: null }
      : await api.get<Page<Merchant>>('/api/v1/merchants', { ...query, limit });
    if (out.json) return out.data(page);
    if (page.items.length === 0) return out.note('no merchants');
    const audit = (m: Merchant): string => (m.lastAudit ? `${m.lastAudit.userVersion} ${m.lastAudit.state}` : '-');
    const rows = page.items.map((m) => [m.appId, m.name ?? '-', m.status, time(m.authorizedAt), audit(m)]);
    for (const line of table(['APP ID', 'NAME', 'STATUS', 'AUTHORIZED', 'LAST AUDIT'], rows)) out.line(line);
    if (page.nextCursor) out.note('(more merchants: --all)');
  },
};

interface OnboardingStart {
  outcome: 'started' | 'up_to_date' | 'blocked' | 'nothing';
  reason: string | null;
  rolloutId: string | null;
  onboarding: { status: string; channel: string | null };
}

const onboard: Command = {
  group: 'merchants',
  name: 'onboard',
  summary: 'onboard a merchant now, as its authorization would (a failed onboarding starts again)',
  usage: '<appId>',
  args: ['appId'],
  async run({ args, api, out }) {
    const appId = args[0] ?? '';
    const answer = await api.post<OnboardingStart>(`/api/v1/merchants/${encodeURIComponent(appId)}/onboarding/start`);
    if (out.json) return out.data(answer);
    const why = answer.reason ? ` (${answer.reason})` : '';
    const rollout = answer.rolloutId && answer.outcome === 'started' ? `, rollout ${answer.rolloutId}` : '';
    out.line(`${appId}: ${answer.outcome}${why}${rollout}; onboarding ${answer.onboarding.status}${answer.onboarding.channel ? ` on channel ${answer.onboarding.channel}` : ''}`);
  },
};

export const merchantCommands: Command[] = [list, onboard];
