/**
 * `ks-isv runtime users|stats` end to end: the CLI as a child process against the real server (SQLite)
 * and the sandbox playing the mini-program side — sandbox users log in through /runtime/v1 (ks.login code
 * → POST /runtime/v1/sessions), and the CLI lists exactly their openIds (paged one by one with --all) and
 * counts them; bad input is a usage error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { authorizeMerchant } from '../helpers/rest.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = 'ks0000000000000003';
const OTHER = 'ks0000000000000004';
const sqlite = dialectTargets().find((target) => target.name === 'sqlite')!;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
interface UserPage {
  items: { openId: string; firstSeenAt: number; lastSeenAt: number; hasPhone: boolean; phoneBoundAt: number | null }[];
  nextCursor: string | null;
}
interface Stats {
  users: number;
  withPhone: number;
  activeSessions: number;
  lastLoginAt: number | null;
}

describe('ks-isv runtime against the server', { skip: sqlite.skip }, () => {
  let stack: Stack;
  const openIds: string[] = [];

  const cli = (args: string[], key = stack.keys.viewer): Promise<Run> =>
    new Promise((resolve) => {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KS_ISV_URL: stack.url, KS_ISV_KEY: key };
      execFile(process.execPath, ['bin/ks-isv.js', ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
        assert.ok(!stdout.includes(key) && !stderr.includes(key), 'the key never shows');
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });

  /** A Kuaishou user of the sandbox logs in to `appId`'s mini-program: its openId there. */
  const logIn = async (appId: string, nickname: string): Promise<string> => {
    const user = await stack.sandbox.control<{ userId: string }>('POST', '/users', { nickname });
    assert.equal(user.status, 201, JSON.stringify(user.json));
    const login = await stack.sandbox.control<{ code: string }>('POST', `/apps/${appId}/login`, { userId: user.json.userId });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    const session = await stack.api<{ openId: string; sessionToken: string }>('POST', '/runtime/v1/sessions', { key: null, body: { appId, code: login.json.code } });
    assert.equal(session.status, 201, JSON.stringify(session.json));
    return session.json.openId;
  };

  before(async () => {
    stack = await startStack(sqlite, { env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0' } });
    await stack.ready();
    await authorizeMerchant(stack, APP);
    await authorizeMerchant(stack, OTHER);
    for (const nickname of ['甲', '乙', '丙']) openIds.push(await logIn(APP, nickname));
    openIds.sort();
    // Another merchant's user: never listed or counted under APP.
    await logIn(OTHER, '丁');
  });

  after(async () => {
    await stack?.close();
    await sqlite.cleanup();
  });

  test('runtime users: exactly the merchant\'s openIds, one page at a time with --limit 1 --all', async () => {
    const all = await cli(['runtime', 'users', APP, '--limit', '1', '--all', '--json']);
    assert.equal(all.code, 0, all.stderr);
    const page = JSON.parse(all.stdout) as UserPage;
    assert.equal(page.nextCursor, null);
    assert.deepEqual(page.items.map((user) => user.openId), openIds);
    assert.ok(page.items.every((user) => !user.hasPhone && user.phoneBoundAt === null && user.firstSeenAt <= user.lastSeenAt));

    // Without --all: one page, its nextCursor, and --cursor goes on from there.
    const first = JSON.parse((await cli(['runtime', 'users', APP, '--limit', '2', '--json'])).stdout) as UserPage;
    assert.deepEqual(first.items.map((user) => user.openId), openIds.slice(0, 2));
    assert.ok(first.nextCursor);
    const rest = await cli(['runtime', 'users', APP, '--limit', '2', '--cursor', first.nextCursor, '--json']);
    assert.equal(rest.code, 0, rest.stderr);
    assert.deepEqual((JSON.parse(rest.stdout) as UserPage).items.map((user) => user.openId), openIds.slice(2));

    // The table: a header and one row per user, phone bound "no".
    const text = await cli(['runtime', 'users', APP, '--limit', '1', '--all']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^OPEN ID\s+FIRST SEEN\s+LAST SEEN\s+PHONE$/);
    assert.deepEqual(lines.slice(1).map((line) => line.split(/\s+/)[0]), openIds);
    for (const line of lines.slice(1)) assert.match(line, /^\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+no$/);
    const paged = await cli(['runtime', 'users', APP, '--limit', '1']);
    assert.equal(paged.stdout.trimEnd().split('\n').length, 2);
    assert.match(paged.stderr, /\(more users: --all, or --cursor \S+\)/);
  });

  test('runtime stats: the four figures (--json: the API answer)', async () => {
    const json = await cli(['runtime', 'stats', APP, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const stats = JSON.parse(json.stdout) as Stats;
    assert.deepEqual({ ...stats, lastLoginAt: typeof stats.lastLoginAt }, { users: 3, withPhone: 0, activeSessions: 3, lastLoginAt: 'number' });
    const text = await cli(['runtime', 'stats', APP]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^users\s+3\nwith phone\s+0 \(0%\)\nactive sessions\s+3\nlast login\s+\d{4}-\d\d-\d\d \d\d:\d\d\n$/);
    const other = JSON.parse((await cli(['runtime', 'stats', OTHER, '--json'])).stdout) as Stats;
    assert.equal(other.users, 1);
  });

  test('bad input: usage errors (exit 2); an unknown merchant is the API\'s error (exit 1)', async () => {
    for (const args of [
      ['runtime', 'users'],
      ['runtime', 'stats'],
      ['runtime', 'users', APP, '--limit', '0'],
      ['runtime', 'users', APP, '--limit', 'ten'],
      ['runtime', 'users', APP, '--cursor'],
      ['runtime', 'users', APP, 'extra'],
      ['runtime', 'users', APP, '--phone'],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^error: .+\nhint: /m, args.join(' '));
      assert.equal(run.stdout, '', 'nothing on stdout');
    }
    const missing = await cli(['runtime', 'users']);
    assert.match(missing.stderr, /error: missing <appId>/);
    const zero = await cli(['runtime', 'users', APP, '--limit', '0']);
    assert.match(zero.stderr, /--limit must be a whole number from 1 to 200, got '0'/);

    const unknown = await cli(['runtime', 'users', 'ks_nobody']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /error: merchant_not_found/);
    const json = await cli(['runtime', 'stats', 'ks_nobody', '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stderr.trim().split('\n').at(-1) ?? '{}') as { error: { code: string } }).error.code, 'merchant_not_found');
    // A runtime key reaches no /api/v1 route.
    const runtimeKey = await cli(['runtime', 'stats', APP], stack.keys.runtime);
    assert.equal(runtimeKey.code, 1);
    assert.match(runtimeKey.stderr, /error: forbidden/);
  });
});
