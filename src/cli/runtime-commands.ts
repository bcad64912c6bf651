/** `runtime users`, `runtime stats`: a merchant's mini-program users as operators see them (docs/runtime.md). */
import type { RuntimeUser, RuntimeUserPage } from '../../web/src/api/shapes.ts';
import { ok, type ApiClient } from './api-client.ts';
import { type Command, flag, intOption, stringOption } from './command.ts';
import { ApiError, NotAvailableError } from './errors.ts';
import { time, table } from './output.ts';

/** A server without the merchant runtime (404 not_found, not merchant_not_found) does not have the feature. */
async function available<T>(path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') throw new NotAvailableError(`not available on this server (404 from ${path})`);
    throw error;
  }
}

const USERS_PATH = 'GET /api/v1/merchants/:appId/users';

function usersPage(api: ApiClient, appId: string, limit: number | undefined, cursor: string | undefined): Promise<RuntimeUserPage> {
  return available(USERS_PATH, () => ok(api.rest.GET('/api/v1/merchants/{appId}/users', { params: { path: { appId }, query: { limit, cursor } } })));
}

const users: Command = {
  group: 'runtime',
  name: 'users',
  summary: "a merchant's mini-program users (by openId): first and last seen, whether a phone is bound",
  usage: '<appId> [--limit <n>] [--cursor <c>] [--all]',
  args: ['appId'],
  help: [
    '--limit <n>    at most n users, 1…200 (default 50; with --all: the page size, default 200)',
    '--cursor <c>   start after this position (the nextCursor of an earlier page)',
    '--all          every user from there on (follows nextCursor)',
    '--json: the page as the API answers it ({items, nextCursor}); with --all every item, nextCursor null',
  ],
  options: { limit: { type: 'string' }, cursor: { type: 'string' }, all: { type: 'boolean' } },
  async run({ args, values, api, out }) {
    const appId = args[0] ?? '';
    const limit = intOption(values, 'limit', { min: 1, max: 200 });
    const from = stringOption(values, 'cursor');
    let cursor = from;
    let page: RuntimeUserPage;
    if (flag(values, 'all')) {
      const items: RuntimeUser[] = [];
      do {
        const next = await usersPage(api, appId, limit ?? 200, cursor);
        items.push(...next.items);
        cursor = next.nextCursor ?? undefined;
      } while (cursor);
      page = { items, nextCursor: null };
    } else {
      page = await usersPage(api, appId, limit, cursor);
    }
    if (out.json) return out.data(page);
    if (page.items.length === 0) return out.note(from ? 'no more users after this cursor' : `no users (no one has logged in to ${appId}'s mini-program yet)`);
    const rows = page.items.map((user) => [user.openId, time(user.firstSeenAt), time(user.lastSeenAt), user.hasPhone ? 'yes' : 'no']);
    for (const line of table(['OPEN ID', 'FIRST SEEN', 'LAST SEEN', 'PHONE'], rows)) out.line(line);
    if (page.nextCursor) out.note(`(more users: --all, or --cursor ${page.nextCursor})`);
  },
};

const stats: Command = {
  group: 'runtime',
  name: 'stats',
  summary: "a merchant's mini-program users in figures: users, phone bound, active sessions, last login",
  usage: '<appId>',
  args: ['appId'],
  help: ['--json: {users, withPhone, activeSessions, lastLoginAt} as the API answers it (lastLoginAt: epoch ms or null)'],
  async run({ args, api, out }) {
    const appId = args[0] ?? '';
    const path = 'GET /api/v1/merchants/:appId/runtime';
    const answer = await available(path, () => ok(api.rest.GET('/api/v1/merchants/{appId}/runtime', { params: { path: { appId } } })));
    if (out.json) return out.data(answer);
    const share = answer.users > 0 ? ` (${Math.round((answer.withPhone / answer.users) * 100)}%)` : '';
    const rows = [
      ['users', String(answer.users)],
      ['with phone', `${answer.withPhone}${share}`],
      ['active sessions', String(answer.activeSessions)],
      ['last login', time(answer.lastLoginAt)],
    ];
    for (const [label, value] of rows) out.line(`${(label ?? '').padEnd(16)}${value ?? ''}`);
  },
};

export const runtimeCommands: Command[] = [users, stats];
