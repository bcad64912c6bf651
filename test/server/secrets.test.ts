/**
 * No plaintext secret leaves the service: after an onboarding, operations, token refreshes, a revocation, a
 * re-authorization and a few errors, none of the secrets in play appears in the service's log lines, in any
 * answer it gave, or anywhere in the database (SQLite: the raw bytes of the file and its WAL; PostgreSQL:
 * every row of every table in the schema).
 *
 * The secrets: the component secret, the message token and key, the master key, the API keys, and every
 * credential the sandbox minted (tickets, component tokens, pre-authorization codes, authorization codes,
 * access and refresh tokens), caught as they are minted, since the sandbox forgets spent ones.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { dialectTargets, TEST_SECRET_KEY, type DialectTarget } from '../store/dialects.ts';

const APP = 'ks0000000000000001';

/** Every place a secret must not be, as text. SQLite bytes are read as latin1 so any byte sequence matches. */
async function databaseText(dialect: DialectTarget, stack: Stack): Promise<string> {
  const { sqliteFile, schema } = stack.database;
  if (sqliteFile !== undefined) {
    const text = [sqliteFile, `${sqliteFile}-wal`]
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file).toString('latin1'))
      .join('\n');
    assert.ok(text.includes(APP), 'the bytes read hold the merchant (they are the real data)');
    return text;
  }
  assert.ok(schema);
  const tables = await dialect.pgQuery<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema]);
  assert.ok(tables.some((t) => t.table_name === 'credentials'));
  const dumps: string[] = [];
  for (const { table_name: table } of tables) {
    const rows = await dialect.pgQuery(`select * from "${schema}"."${table}"`);
    dumps.push(`${table}: ${JSON.stringify(rows)}`);
  }
  const text = dumps.join('\n');
  assert.ok(text.includes(APP), 'the rows read hold the merchant (they are the real data)');
  return text;
}

function leaks(haystack: string, secrets: ReadonlyMap<string, string>): string[] {
  return [...secrets].filter(([value]) => haystack.includes(value)).map(([, name]) => name);
}

for (const dialect of dialectTargets()) {
  describe(`secrets on ${dialect.name}`, { skip: dialect.skip, timeout: 50_000 }, () => {
    let stack: Stack | undefined;
    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('no plaintext secret in logs, answers or the database', async () => {
      // Audits are decided by hand: MerchantService.submitAudit notes "auditing" after its platform calls, so
      // an automatic result pushed meanwhile (likely here, every call refreshing tokens) would be overwritten.
      // Tokens live 1 s from the start: the service takes a component token on boot (the template sync).
      const s = await startStack(dialect, { sandbox: { component: { auditDelayMs: -1, tokenTtlS: 1 } } });
      stack = s;
      const state = s.sandbox.sandbox.runtime.state;
      const { component } = state;

      // Catch every credential the sandbox mints from now on (spent ones disappear from its state).
      const minted: string[] = [];
      const mint = state.secret.bind(state);
      state.secret = (prefix: string): string => {
        const value = mint(prefix);
        minted.push(value);
        return value;
      };
      const credentialValues = (): string[] => {
        const c = state.data.credentials;
        return [c.tickets, c.componentTokens, c.preAuthCodes, c.authorizationCodes, c.authorizerTokens, c.refreshTokens].flatMap((records) => Object.keys(records));
      };
      const seenAtStart = credentialValues(); // the boot ticket

      // Every answer the service gives, kept.
      const answers: { what: string; text: string }[] = [];
      const api = async <T = Record<string, unknown>>(method: string, path: string, options?: Parameters<Stack['api']>[2]): Promise<ApiAnswer<T>> => {
        const answer = await s.api<T>(method, path, options);
        answers.push({ what: `${method} ${path} → ${answer.status}`, text: `${JSON.stringify([...answer.headers])}\n${answer.bytes.toString('latin1')}` });
        return answer;
      };
      const keep = async (what: string, response: Response): Promise<Response> => {
        answers.push({ what, text: `${JSON.stringify([...response.headers])}\n${Buffer.from(await response.clone().arrayBuffer()).toString('latin1')}` });
        return response;
      };
      const op = (key: string) => ({ key });

      await s.ready();
      // Tokens live 1 s from now on: inside the 5-minute refresh skew, so every use refreshes them.
      assert.equal((await s.sandbox.control('PUT', '/component', { tokenTtlS: 1 })).status, 200);

      // ---- onboarding through the authorization page and the redirect (the sandbox also pushes the code)
      const link = await api<{ url: string }>('POST', '/api/v1/authorizations', { ...op(s.keys.operator), body: {} });
      assert.equal(link.status, 201);
      const page = new URL(link.json.url);
      page.searchParams.set('merchant_id', 'm000001');
      assert.equal((await fetch(page)).status, 200);
      const confirm = await fetch(`${page.origin}${page.pathname}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([
          ...['component_app_id', 'pre_auth_code', 'redirect_uri'].map((name) => [name, page.searchParams.get(name) ?? ''] as [string, string]),
          ['merchant_id', 'm000001'],
          ['app_id', APP],
          ['permission', '1'],
          ['permission', '2'],
          ['permission', '3'],
          ['permission', '4'],
        ]),
      });
      assert.equal(confirm.status, 302);
      const redirect = new URL(confirm.headers.get('location') ?? '');
      const redirectCode = redirect.searchParams.get('authorization_code');
      assert.ok(redirectCode, 'the redirect carries the authorization code');
      const back = await keep('GET /callbacks/authorize', await fetch(redirect));
      assert.equal(back.status, 200);
      assert.match(await back.text(), /授权成功/);

      // ---- operations
      const webview = await api('POST', `/api/v1/merchants/${APP}/domains/webview`, { ...op(s.keys.operator), body: { action: 'set', domains: ['https://shop.example.com'] } });
      assert.equal(webview.status, 200, JSON.stringify(webview.json));
      assert.equal((await api('GET', `/api/v1/merchants/${APP}/domains/server`, op(s.keys.viewer))).status, 200);
      assert.equal((await api('POST', `/api/v1/merchants/${APP}/code`, { ...op(s.keys.operator), body: { templateId: 1, userVersion: '1.0.0', userDesc: 'first', extJson: { shopId: 7 } } })).status, 200);
      assert.equal((await api('POST', `/api/v1/merchants/${APP}/release`, op(s.keys.operator))).status, 409, 'nothing passed audit yet');
      assert.equal((await api('POST', `/api/v1/merchants/${APP}/audit`, { ...op(s.keys.operator), body: { note: 'please' } })).status, 200);
      assert.equal((await s.sandbox.control('POST', `/audits/${APP}`, { decision: 'pass' })).status, 200);
      await waitFor(async () => ((await api<{ lastAudit: { state: string } | null }>('GET', `/api/v1/merchants/${APP}`, op(s.keys.viewer))).json.lastAudit?.state === 'passed' ? true : undefined), {
        timeoutMs: 5000,
        what: 'the audit result push',
      });
      assert.equal((await api('POST', `/api/v1/merchants/${APP}/release`, op(s.keys.operator))).status, 200);
      assert.equal((await api('GET', `/api/v1/merchants/${APP}/versions`, op(s.keys.viewer))).status, 200);
      assert.equal((await api('GET', `/api/v1/merchants/${APP}/qrcode`, op(s.keys.viewer))).status, 200);
      assert.equal((await api('POST', `/api/v1/merchants/${APP}/capabilities/phone-number`, { ...op(s.keys.operator), body: { reason: 'login' } })).status, 200);
      assert.equal((await api('GET', `/api/v1/merchants/${APP}/capabilities/phone-number`, op(s.keys.viewer))).status, 200);

      // ---- errors: the platform down, a forged push, a bad key
      assert.equal((await s.sandbox.control('PUT', '/faults', { errorRate: 1 })).status, 200);
      try {
        assert.equal((await api('GET', `/api/v1/merchants/${APP}/versions`, op(s.keys.viewer))).status, 502);
      } finally {
        assert.equal((await s.sandbox.control('PUT', '/faults', { errorRate: 0 })).status, 200);
      }
      assert.equal((await api('POST', '/callbacks/auth', { key: null, raw: '{"encryptedMsg":"x"}', headers: { 'content-type': 'application/json', kwaisign: '0'.repeat(40) } })).status, 401);
      assert.equal((await api('GET', '/api/v1/merchants', { key: `${s.keys.admin}x` })).status, 401);

      // ---- the merchant recovers a code, revokes, authorizes again (all pushed by the sandbox)
      const pushedCount = async (): Promise<number> => (await api<{ items: unknown[] }>('GET', '/api/v1/push-events?limit=200', op(s.keys.viewer))).json.items.length;
      let pushes = await pushedCount();
      const nextPush = async (): Promise<void> => {
        const target = pushes + 1;
        await waitFor(async () => ((await pushedCount()) >= target ? true : undefined), { timeoutMs: 5000, what: 'the push' });
        pushes = target;
      };
      assert.equal((await s.sandbox.control('POST', '/reauthorization-codes', { appId: APP })).status, 201);
      await nextPush();
      assert.equal((await s.sandbox.control('POST', '/revocations', { appId: APP })).status, 200);
      await nextPush();
      assert.equal((await s.sandbox.control('POST', '/authorizations', { appId: APP, permissions: [1, 2] })).status, 201);
      await nextPush();
      assert.equal((await api('GET', `/api/v1/merchants/${APP}/versions`, op(s.keys.viewer))).status, 200);

      // ---- the secrets in play
      const counts = await s.sandbox.calls();
      assert.ok((counts.byOperation.refreshAuthorizerToken?.ok ?? 0) >= 1, 'an authorizer token was refreshed');
      assert.ok((counts.byOperation.getComponentAccessToken?.ok ?? 0) >= 2, 'the component token was refreshed');
      const secrets = new Map<string, string>([
        [component.componentAppSecret, 'the component secret'],
        [component.messageToken, 'the message token'],
        [component.messageKey, 'the message key'],
        [TEST_SECRET_KEY.toString('utf8'), 'the master key'],
        [TEST_SECRET_KEY.toString('base64'), 'the master key (base64)'],
        [TEST_SECRET_KEY.toString('hex'), 'the master key (hex)'],
        ...Object.entries(s.keys).map(([role, key]) => [key, `the ${role} API key`] as [string, string]),
      ]);
      for (const value of new Set([...seenAtStart, ...minted, ...credentialValues()])) secrets.set(value, `sandbox credential ${value.split('_')[0] ?? ''}_…`);
      const kinds = (prefix: string): number => [...secrets.keys()].filter((value) => value.startsWith(prefix)).length;
      assert.ok(kinds('ticket_') >= 2 && kinds('ctoken_') >= 3 && kinds('authcode_') >= 3 && kinds('atoken_') >= 3 && kinds('rtoken_') >= 3 && kinds('preauth_') >= 1, 'the check covers every kind of credential');
      assert.ok(secrets.has(redirectCode));

      // ---- logs
      const logText = s.logs.join('');
      assert.ok(s.logs.length > 30, 'the service logged');
      assert.deepEqual(leaks(logText, secrets), [], 'secrets in the log lines');
      const authorizeLines = s.logs.filter((line) => line.includes('/callbacks/authorize'));
      assert.ok(authorizeLines.length >= 1, 'the redirect request was logged');
      for (const line of authorizeLines) {
        assert.ok(!line.includes(redirectCode));
        assert.match(line, /authorization_code=\[REDACTED\]/);
      }

      // ---- answers (the authorization link carries its pre-authorization code by design: it is for the merchant)
      assert.ok(answers.length > 20);
      const notInAnswers = new Map([...secrets].filter(([value]) => !value.startsWith('preauth_')));
      for (const { what, text } of answers) assert.deepEqual(leaks(text, notInAnswers), [], `secrets in the answer to ${what}`);

      // ---- the database, open (SQLite: file and WAL) and after close (checkpointed into the file)
      assert.ok(await s.service.store.tokenStore.get(`component:${component.componentAppId}:ticket`), 'credentials are stored (encrypted)');
      assert.deepEqual(leaks(await databaseText(dialect, s), secrets), [], 'secrets in the open database');
      await s.close();
      stack = undefined;
      assert.deepEqual(leaks(await databaseText(dialect, s), secrets), [], 'secrets in the closed database');
    });
  });
}
