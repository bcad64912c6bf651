/**
 * The push receivers (POST /callbacks/auth, /callbacks/events) against a real sandbox and both dialects.
 *
 * How pushes are delivered here: the tests seal pushes themselves (`sealPush` with the sandbox component's
 * token, key and app id) and POST the raw bytes, so they choose the msgId, the number of deliveries, their
 * concurrency and timestamps. The codes inside come from the sandbox's control API, which would ALSO push
 * the authorization event to the service; `withheld()` unregisters the sandbox's authorization-event URL
 * for the duration of that one control call (the sandbox records the push as undeliverable and never
 * resends it), then registers it again. So each authorization event reaches the service only as the test
 * sends it, while tickets and the message URL (audit and capability results) keep flowing as in production.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { credentialKeys, encryptPushMessage, sealPush, signPush, type KnownPushEvent, type PushKeys, type SealablePushEvent, type SealedPush } from '../../src/kuaishou/index.ts';
import type { PushRecord } from '../../src/sandbox/pushes.ts';
import { grantedPermissions } from '../../src/sandbox/rules/credentials.ts';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { dialectTargets } from '../store/dialects.ts';

interface PushEventItem {
  msgId: string;
  channel: string;
  eventType: string;
  appId: string | null;
  outcome: string;
  summary: Record<string, unknown>;
  error: string | null;
}
interface MerchantBody {
  appId: string;
  status: string;
  permissions: number[];
  revokedAt: number | null;
  lastAudit: { userVersion: string; state: string; reason?: string } | null;
  capabilities: { capability: string; status: string; reason: string | null }[];
}
interface ErrorAnswer {
  error: { code: string; message: string };
}

const HOUR = 3_600_000;

for (const dialect of dialectTargets()) {
  describe(`push receivers on ${dialect.name}`, { skip: dialect.skip, timeout: 50_000 }, () => {
    let stack: Stack;
    let keys: PushKeys;
    let authEventUrl: string;

    before(async () => {
      stack = await startStack(dialect, {
        // Audits and capabilities are decided by the tests (control API), never by the sandbox's timers.
        sandbox: { component: { auditDelayMs: -1, capabilityDelayMs: 24 * HOUR } },
      });
      const { component } = stack.sandbox.sandbox.runtime.state;
      keys = { token: component.messageToken, key: component.messageKey, componentAppId: component.componentAppId };
      authEventUrl = component.authEventUrl;
    });
    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    // ---- helpers ----------------------------------------------------------------------------------------

    const newMsgId = (): string => `test-${randomUUID()}`;

    const deliver = (channel: 'auth' | 'events', body: string, signature: string | undefined): Promise<ApiAnswer> =>
      stack.api('POST', `/callbacks/${channel}`, {
        key: null,
        raw: body,
        headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { kwaisign: signature }) },
      });

    const send = (channel: 'auth' | 'events', sealed: SealedPush): Promise<ApiAnswer> => deliver(channel, sealed.body, sealed.signature);

    const seal = (event: SealablePushEvent, msgId = newMsgId(), timestamp?: number): SealedPush & { msgId: string } => ({
      msgId,
      ...sealPush({ event, msgId, ...(timestamp === undefined ? {} : { timestamp }) }, keys),
    });

    /** Runs a control-API action with the sandbox's authorization-event URL unregistered (see the file header). */
    async function withheld<T>(action: () => Promise<T>): Promise<T> {
      assert.equal((await stack.sandbox.control('PUT', '/component', { authEventUrl: '' })).status, 200);
      try {
        return await action();
      } finally {
        assert.equal((await stack.sandbox.control('PUT', '/component', { authEventUrl })).status, 200);
      }
    }

    /** An AUTHORIZED (or UPDATE_AUTHORIZED) event exactly as the sandbox would push it, with a fresh code. */
    async function authorizationEvent(appId: string, permissions: number[]): Promise<KnownPushEvent> {
      const answer = await withheld(() =>
        stack.sandbox.control<{ authorizationCode: string; expiresIn: number; updated: boolean }>('POST', '/authorizations', { appId, permissions }),
      );
      assert.equal(answer.status, 201);
      const app = stack.sandbox.sandbox.runtime.state.app(appId);
      assert.ok(app);
      return {
        type: answer.json.updated ? 'authorizationUpdated' : 'authorized',
        appId,
        authorizationCode: answer.json.authorizationCode,
        codeExpiresInS: answer.json.expiresIn,
        permissions: grantedPermissions(app),
        eventTime: Date.now(),
      };
    }

    async function authorizeByPush(appId: string, permissions: number[]): Promise<void> {
      const answer = await send('auth', seal(await authorizationEvent(appId, permissions)));
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.equal((await merchant(appId)).status, 'authorized');
    }

    const acked = (answer: ApiAnswer, msgId: string): void => {
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.deepEqual(answer.json, { result: 1, message_id: msgId });
    };

    async function merchant(appId: string): Promise<MerchantBody> {
      const answer = await stack.api<MerchantBody>('GET', `/api/v1/merchants/${appId}`, { key: stack.keys.viewer });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      return answer.json;
    }

    async function pushEvents(): Promise<PushEventItem[]> {
      const answer = await stack.api<{ items: PushEventItem[]; nextCursor: string | null }>('GET', '/api/v1/push-events?limit=200', { key: stack.keys.viewer });
      assert.equal(answer.status, 200);
      assert.equal(answer.json.nextCursor, null, 'fewer than 200 pushes in this suite');
      return answer.json.items;
    }

    const rowsOf = async (msgId: string): Promise<PushEventItem[]> => (await pushEvents()).filter((row) => row.msgId === msgId);

    async function auditActions(appId: string, action?: string): Promise<string[]> {
      const query = new URLSearchParams({ appId, limit: '200', ...(action ? { action } : {}) });
      const answer = await stack.api<{ items: { action: string; result: string; errorCode: string | null }[] }>('GET', `/api/v1/audit-log?${query.toString()}`, { key: stack.keys.viewer });
      assert.equal(answer.status, 200);
      return answer.json.items.map((entry) => (entry.result === 'ok' ? entry.action : `${entry.action}:${entry.errorCode ?? entry.result}`)).reverse();
    }

    async function calls(operation: string): Promise<number> {
      return (await stack.sandbox.calls()).byOperation[operation]?.calls ?? 0;
    }

    const tokensOf = (appId: string) => stack.service.store.tokenStore.get(credentialKeys.authorizer(keys.componentAppId, appId));

    /** Sends a push that must be refused with `status`/`code`, and checks that nothing was stored. */
    async function refused(channel: 'auth' | 'events', body: string, signature: string | undefined, status: number, code?: string): Promise<void> {
      const stored = (await pushEvents()).length;
      const answer = await deliver(channel, body, signature);
      assert.equal(answer.status, status, `${JSON.stringify(answer.json)} for ${body.slice(0, 80)}`);
      if (code !== undefined) assert.equal((answer.json as unknown as ErrorAnswer).error.code, code);
      assert.equal((await pushEvents()).length, stored, 'a refused push stores nothing');
    }

    // ---- tests ------------------------------------------------------------------------------------------

    test('on boot without a ticket the service calls start_push_ticket, and the pushed ticket is stored', async () => {
      // startStack() only started the service: nobody pushed a ticket by hand (no ready()).
      assert.ok(await calls('startPushTicket') >= 1, 'start_push_ticket was called on boot');
      await waitFor(async () => ((await stack.service.platform.tokens.hasValidTicket()) ? true : undefined), { timeoutMs: 5000, what: 'the boot ticket' });
      const tickets = (await pushEvents()).filter((row) => row.eventType === 'ticket');
      assert.ok(tickets.length >= 1);
      assert.ok(tickets.every((row) => row.channel === 'auth' && row.outcome === 'applied'));
    });

    test('the same AUTHORIZED push delivered 3 times: 3 acks, one stored event, one audit entry, one code exchange', async () => {
      const app = 'ks0000000000000001';
      const exchanges = await calls('exchangeAuthorizationCode');
      const push = seal(await authorizationEvent(app, [1, 2]));
      for (let i = 0; i < 3; i++) acked(await send('auth', push), push.msgId);

      const rows = await rowsOf(push.msgId);
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.deepEqual([row?.channel, row?.eventType, row?.appId, row?.outcome, row?.error], ['auth', 'authorized', app, 'applied', null]);
      assert.deepEqual(row?.summary, { permissions: [1, 2] });
      assert.deepEqual(await auditActions(app, 'merchant.authorized'), ['merchant.authorized']);
      assert.equal(await calls('exchangeAuthorizationCode'), exchanges + 1, 'the code was exchanged once');
      const stored = await merchant(app);
      assert.equal(stored.status, 'authorized');
      assert.deepEqual(stored.permissions, [1, 2]);
      assert.ok(await tokensOf(app), 'the pair is in the token store');
    });

    test('3 concurrent deliveries of the same AUTHORIZED push: the same single effect', async () => {
      const app = 'ks0000000000000002';
      const exchanges = await calls('exchangeAuthorizationCode');
      const push = seal(await authorizationEvent(app, [1, 2, 3, 4]));
      const answers = await Promise.all([0, 1, 2].map(() => send('auth', push)));
      for (const answer of answers) acked(answer, push.msgId);

      const rows = await rowsOf(push.msgId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.outcome, 'applied');
      assert.deepEqual(await auditActions(app, 'merchant.authorized'), ['merchant.authorized']);
      assert.equal(await calls('exchangeAuthorizationCode'), exchanges + 1);
      assert.deepEqual((await merchant(app)).permissions, [1, 2, 3, 4]);
    });

    test('forged, misaddressed and stale pushes are refused and change nothing', async () => {
      const app = 'ks0000000000000001'; // authorized above: an UNAUTHORIZED applied by mistake would show
      const unauthorized: KnownPushEvent = { type: 'unauthorized', appId: app, eventTime: Date.now() };
      const good = seal(unauthorized);

      // One byte of the body flipped (inside the ciphertext): the signature no longer matches.
      const flipped = Buffer.from(good.body, 'utf8');
      const at = good.body.indexOf('"encryptedMsg":"') + 20;
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      await refused('auth', flipped.toString('utf8'), good.signature, 401, 'bad_signature');
      // The right body with a flipped signature, and with none at all.
      const badSignature = `${good.signature.slice(0, -1)}${good.signature.endsWith('0') ? '1' : '0'}`;
      await refused('auth', good.body, badSignature, 401, 'bad_signature');
      await refused('auth', good.body, undefined, 401, 'bad_signature');
      await refused('auth', good.body, '', 401, 'bad_signature');
      // Signed with the right token and key, but addressed to another component app.
      const other = sealPush({ event: unauthorized, msgId: newMsgId() }, { ...keys, componentAppId: 'ks_other_component' });
      await refused('auth', other.body, other.signature, 400, 'wrong_component');
      // Replays: 2 hours old, and 10 minutes in the future.
      const stale = seal(unauthorized, newMsgId(), Date.now() - 2 * HOUR);
      await refused('auth', stale.body, stale.signature, 400, 'stale_push');
      const future = seal(unauthorized, newMsgId(), Date.now() + 10 * 60_000);
      await refused('auth', future.body, future.signature, 400, 'stale_push');

      assert.equal((await merchant(app)).status, 'authorized');
      assert.ok(await tokensOf(app), 'its tokens are untouched');
      assert.ok(!(await stack.service.store.pushEvents.exists(good.msgId)));
      // The genuine push itself is still accepted afterwards: the refusals did not burn its msgId.
      acked(await send('auth', seal(unauthorized, good.msgId)), good.msgId);
      assert.equal((await merchant(app)).status, 'revoked');
    });

    test('garbage, empty and oversized bodies get a 4xx, never a 500', async (t) => {
      const signed = (body: string): [string, string] => [body, signPush(body, keys.token)];
      const envelope = (encryptedMsg: string): string =>
        JSON.stringify({ encryptedMsg, msgId: newMsgId(), componentAppId: keys.componentAppId, timestamp: Date.now() });
      const cases: [string, string, string | undefined, number, string?][] = [
        ['garbage, unsigned', 'not json {', undefined, 401, 'bad_signature'],
        ['garbage, signed', ...signed('not json {'), 400, 'bad_envelope'],
        ['empty, unsigned', '', undefined, 401],
        ['empty, signed', ...signed(''), 400],
        ['a JSON array, signed', ...signed('[1,2,3]'), 400, 'bad_envelope'],
        ['an envelope without msgId, signed', ...signed(JSON.stringify({ encryptedMsg: 'AAAA', componentAppId: keys.componentAppId, timestamp: Date.now() })), 400, 'bad_envelope'],
        ['ciphertext that is not base64', ...signed(envelope('%%%')), 400, 'bad_ciphertext'],
        ['ciphertext under another key', ...signed(envelope(encryptPushMessage('{"event":"X"}', 'A'.repeat(43)))), 400],
        ['plaintext that is not JSON', ...signed(envelope(encryptPushMessage('not json', keys.key))), 400, 'bad_plaintext'],
        ['plaintext without an event', ...signed(envelope(encryptPushMessage('{"foo":1}', keys.key))), 400, 'bad_event'],
        ['a known event with a field missing', ...signed(envelope(encryptPushMessage(JSON.stringify({ event: 'AUTHORIZED', componentAppId: keys.componentAppId }), keys.key))), 400, 'bad_event'],
      ];
      for (const [what, body, signature, status, code] of cases) {
        await t.test(what, () => refused('auth', body, signature, status, code));
      }
      // Bigger than the receivers' 256 KiB limit, signed or not.
      const huge = JSON.stringify({ encryptedMsg: 'A'.repeat(300 * 1024), msgId: newMsgId(), componentAppId: keys.componentAppId, timestamp: Date.now() });
      await refused('events', ...signed(huge), 413);
      await refused('events', huge, undefined, 413);
      // Other media types are handled the same way (parsed as raw bytes), still never a 500.
      const text = await stack.api('POST', '/callbacks/events', { key: null, raw: 'hello', headers: { 'content-type': 'text/plain' } });
      assert.equal(text.status, 401);
    });

    test('UNAUTHORIZED: merchant revoked, tokens deleted, history kept, operations refused; AUTHORIZED again restores it', async () => {
      const app = 'ks0000000000000003';
      await authorizeByPush(app, [1, 2, 3]);
      const upload = await stack.api('POST', `/api/v1/merchants/${app}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion: '1.0.0', userDesc: 'd', extJson: { shop: 3 } } });
      assert.equal(upload.status, 200);
      assert.ok(await tokensOf(app));

      // The merchant revokes on the platform's side; the platform pushes UNAUTHORIZED.
      assert.equal((await withheld(() => stack.sandbox.control('POST', '/revocations', { appId: app }))).status, 200);
      const push = seal({ type: 'unauthorized', appId: app, eventTime: Date.now() });
      acked(await send('auth', push), push.msgId);
      acked(await send('auth', push), push.msgId); // a resend: no second effect

      const revoked = await merchant(app);
      assert.equal(revoked.status, 'revoked');
      assert.ok(revoked.revokedAt !== null);
      assert.equal(await tokensOf(app), undefined, 'its tokens are gone from the token store');
      assert.deepEqual(await auditActions(app), ['merchant.authorized', 'code.upload', 'merchant.revoked'], 'its history is kept');
      assert.equal((await rowsOf(push.msgId)).length, 1);
      for (const [method, path, body] of [
        ['GET', `/api/v1/merchants/${app}/versions`, undefined],
        ['POST', `/api/v1/merchants/${app}/code`, { templateId: 1, userVersion: '1.0.1', userDesc: 'd', extJson: {} }],
        ['POST', `/api/v1/merchants/${app}/release`, undefined],
      ] as const) {
        const answer = await stack.api<ErrorAnswer>(method, path, { key: stack.keys.operator, ...(body ? { body } : {}) });
        assert.equal(answer.status, 409, `${method} ${path}: ${JSON.stringify(answer.json)}`);
        assert.equal(answer.json.error.code, 'merchant_not_authorized');
      }

      // The merchant authorizes again, with other permissions.
      await authorizeByPush(app, [1, 4]);
      const back = await merchant(app);
      assert.equal(back.status, 'authorized');
      assert.deepEqual(back.permissions, [1, 4]);
      assert.equal(back.revokedAt, null);
      assert.ok(await tokensOf(app));
      assert.equal((await stack.api('GET', `/api/v1/merchants/${app}/versions`, { key: stack.keys.viewer })).status, 200);
      assert.deepEqual(await auditActions(app), [
        'merchant.authorized',
        'code.upload',
        'merchant.revoked',
        'code.upload:merchant_not_authorized',
        'release:merchant_not_authorized',
        'merchant.authorized',
      ]);
    });

    test('UNAUTHORIZED whose transaction fails: nothing changes, the tokens are kept (503); the resend revokes and deletes them', async () => {
      const [app] = await stack.sandbox.newApps(1);
      assert.ok(app);
      await authorizeByPush(app, [1, 2]);
      assert.ok(await tokensOf(app));
      // The revocation's last write (its audit entry) fails: the whole unit must roll back, tokens included.
      const { db } = stack.service.store.database;
      if (stack.service.store.dialect === 'postgres') {
        await sql`create function fail_revocation() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`.execute(db);
        await sql.raw(`create trigger fail_revocation before insert on audit_log for each row when (new.action = 'merchant.revoked' and new.app_id = '${app}') execute function fail_revocation()`).execute(db);
      } else {
        await sql.raw(`create trigger fail_revocation before insert on audit_log when new.action = 'merchant.revoked' and new.app_id = '${app}' begin select raise(abort, 'injected failure'); end`).execute(db);
      }
      const push = seal({ type: 'unauthorized', appId: app, eventTime: Date.now() });
      try {
        const answer = await send('auth', push);
        assert.equal(answer.status, 503, JSON.stringify(answer.json));
        assert.equal((answer.json as unknown as ErrorAnswer).error.code, 'push_not_applied');
      } finally {
        await sql`drop trigger fail_revocation ${sql.raw(stack.service.store.dialect === 'postgres' ? 'on audit_log' : '')}`.execute(db);
        if (stack.service.store.dialect === 'postgres') await sql`drop function fail_revocation()`.execute(db);
      }
      assert.equal((await rowsOf(push.msgId)).length, 0, 'the event is not stored');
      assert.equal((await merchant(app)).status, 'authorized');
      assert.ok(await tokensOf(app), 'the tokens are kept with the merchant still authorized');

      // The platform resends it (it was not acknowledged).
      acked(await send('auth', push), push.msgId);
      assert.equal((await merchant(app)).status, 'revoked');
      assert.equal(await tokensOf(app), undefined);
      assert.equal((await rowsOf(push.msgId)).length, 1);
    });

    test('RE_AUTHORIZATION_CODE: the code is exchanged, lost tokens come back, the merchant stays authorized', async () => {
      const app = 'ks0000000000000004';
      await authorizeByPush(app, [1, 2]);
      // Lose the merchant's tokens (e.g. a refresh token spent elsewhere).
      const key = credentialKeys.authorizer(keys.componentAppId, app);
      const lost = await stack.service.store.tokenStore.get(key);
      assert.ok(lost);
      assert.ok(await stack.service.store.tokenStore.compareAndSet(key, lost.value, undefined));

      const exchanges = await calls('exchangeAuthorizationCode');
      const code = await withheld(() => stack.sandbox.control<{ authorizationCode: string; expiresIn: number }>('POST', '/reauthorization-codes', { appId: app }));
      assert.equal(code.status, 201);
      const push = seal({ type: 'reauthorizationCode', appId: app, authorizationCode: code.json.authorizationCode, codeExpiresInS: code.json.expiresIn, eventTime: Date.now() });
      acked(await send('auth', push), push.msgId);
      acked(await send('auth', push), push.msgId);

      assert.equal(await calls('exchangeAuthorizationCode'), exchanges + 1);
      const tokens = await tokensOf(app);
      assert.ok(tokens && tokens.value !== lost.value, 'a new pair is stored');
      const row = (await rowsOf(push.msgId))[0];
      assert.equal(row?.eventType, 'reauthorizationCode');
      assert.equal(row.outcome, 'applied');
      const stored = await merchant(app);
      assert.equal(stored.status, 'authorized');
      assert.deepEqual(stored.permissions, [1, 2]);
      // The new pair is the live one at the platform.
      assert.equal((await stack.api('GET', `/api/v1/merchants/${app}/versions`, { key: stack.keys.viewer })).status, 200);
    });

    test('audit results pushed by the platform: passed, then rejected with its reason', async () => {
      const app = 'ks0000000000000005';
      await authorizeByPush(app, [1, 2, 3, 4]);
      const submit = async (userVersion: string): Promise<void> => {
        const upload = await stack.api('POST', `/api/v1/merchants/${app}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion, userDesc: 'd', extJson: { shop: 5 } } });
        assert.equal(upload.status, 200, JSON.stringify(upload.json));
        const audit = await stack.api('POST', `/api/v1/merchants/${app}/audit`, { key: stack.keys.operator, body: { note: 'please' } });
        assert.equal(audit.status, 200, JSON.stringify(audit.json));
        assert.equal((await merchant(app)).lastAudit?.state, 'auditing');
      };
      const lastAuditBecomes = (state: string) =>
        waitFor(async () => {
          const lastAudit = (await merchant(app)).lastAudit;
          return lastAudit?.state === state ? lastAudit : undefined;
        }, { timeoutMs: 5000, what: `lastAudit ${state}` });

      await submit('2.0.0');
      assert.equal((await stack.sandbox.control('POST', `/audits/${app}`, { decision: 'pass' })).status, 200);
      const passed = await lastAuditBecomes('passed');
      assert.equal(passed.userVersion, '2.0.0');
      assert.equal(passed.reason, undefined);

      await submit('2.0.1');
      assert.equal((await stack.sandbox.control('POST', `/audits/${app}`, { decision: 'reject', reason: '图标模糊 (blurry icon)' })).status, 200);
      const rejected = await lastAuditBecomes('rejected');
      assert.equal(rejected.userVersion, '2.0.1');
      assert.equal(rejected.reason, '图标模糊 (blurry icon)');

      const rows = (await pushEvents()).filter((row) => row.eventType === 'auditResult' && row.appId === app);
      assert.deepEqual(rows.map((row) => [row.channel, row.outcome, row.summary.passed]), [['events', 'applied', false], ['events', 'applied', true]]);
    });

    test('capability results pushed by the platform update the merchant\'s capabilities', async () => {
      const app = 'ks0000000000000005';
      for (const capability of ['short-video-mount', 'live-mount']) {
        const applied = await stack.api<{ status: string }>('POST', `/api/v1/merchants/${app}/capabilities/${capability}`, { key: stack.keys.operator, body: { reason: 'shop videos' } });
        assert.equal(applied.status, 200, JSON.stringify(applied.json));
        assert.equal(applied.json.status, 'applying');
      }
      assert.equal((await stack.sandbox.control('POST', `/capabilities/${app}`, { capability: 'SHORT_VIDEO_MOUNT', decision: 'approve' })).status, 200);
      assert.equal((await stack.sandbox.control('POST', `/capabilities/${app}`, { capability: 'LIVE_MOUNT', decision: 'reject', reason: '资质不足' })).status, 200);
      const capabilities = await waitFor(async () => {
        const list = (await merchant(app)).capabilities;
        const done = list.filter((c) => c.status === 'approved' || c.status === 'rejected');
        return done.length === 2 ? list : undefined;
      }, { timeoutMs: 5000, what: 'both capability results' });
      assert.deepEqual(
        capabilities.map((c) => [c.capability, c.status, c.reason]).sort(),
        [['live-mount', 'rejected', '资质不足'], ['short-video-mount', 'approved', null]],
      );
    });

    test('a burst of 48 results for 12 merchants, each delivered twice at once: all acknowledged, each stored once with its effect, group-committed', async () => {
      const apps = await stack.sandbox.newApps(12);
      for (const app of apps) await authorizeByPush(app, [1, 2, 3, 4]);
      const counter = async (name: string): Promise<number> => {
        const text = (await stack.api('GET', '/metrics', { key: stack.keys.viewer })).bytes.toString('utf8');
        return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      };
      const commitsBefore = await counter('ksisv_push_commits_total');
      const committedBefore = await counter('ksisv_push_commit_pushes_total');
      const pushes = apps.flatMap((appId, i) => [
        seal({ type: 'auditResult', appId, userVersion: `5.0.${i}`, passed: i % 3 !== 0, ...(i % 3 === 0 ? { reason: `reason ${i}` } : {}), eventTime: Date.now() }),
        seal({ type: 'capabilityResult', appId, capability: 'phoneNumber', status: i % 2 === 0 ? 'approved' : 'rejected', eventTime: Date.now() }),
        seal({ type: 'capabilityResult', appId, capability: 'liveMount', status: 'approved', eventTime: Date.now() }),
        seal({ raw: { event: 'SOMETHING_ELSE', componentAppId: keys.componentAppId, authorizerAppId: appId } }),
      ]);
      const answers = await Promise.all([...pushes, ...pushes].map((push) => send('events', push)));
      answers.forEach((answer, i) => acked(answer, pushes[i % pushes.length]!.msgId));

      const stored = new Map((await pushEvents()).map((row) => [row.msgId, row]));
      for (const push of pushes) assert.ok(stored.has(push.msgId), `${push.msgId} stored`);
      for (const [i, appId] of apps.entries()) {
        const body = await merchant(appId);
        assert.deepEqual(
          body.lastAudit && { userVersion: body.lastAudit.userVersion, state: body.lastAudit.state, reason: body.lastAudit.reason },
          { userVersion: `5.0.${i}`, state: i % 3 !== 0 ? 'passed' : 'rejected', reason: i % 3 === 0 ? `reason ${i}` : undefined },
        );
        assert.deepEqual(
          body.capabilities.map((c) => [c.capability, c.status]).sort(),
          [['live-mount', 'approved'], ['phone-number', i % 2 === 0 ? 'approved' : 'rejected']],
        );
      }
      // Every delivery was stored or recognised as a resend; the 48 new pushes went through the group commit.
      assert.equal((await counter('ksisv_push_commit_pushes_total')) - committedBefore, pushes.length);
      const commits = (await counter('ksisv_push_commits_total')) - commitsBefore;
      assert.ok(commits >= 1 && commits <= pushes.length, `${commits} commits`);
    });

    test('an unknown event type is acknowledged and stored as ignored, once', async () => {
      const push = seal({ raw: { event: 'SOMETHING_NEW', componentAppId: keys.componentAppId, authorizerAppId: 'ks0000000000000001', detail: { a: 1 } } });
      acked(await send('events', push), push.msgId);
      acked(await send('events', push), push.msgId);
      const rows = await rowsOf(push.msgId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.eventType, 'unknown');
      assert.equal(rows[0].outcome, 'ignored');
      assert.equal(rows[0].channel, 'events');
      assert.deepEqual(rows[0].summary, { event: 'SOMETHING_NEW' });
    });

    test('platform down during the code exchange: not acknowledged (503), nothing stored; the resend is applied', async () => {
      const [app] = await stack.sandbox.newApps(1);
      assert.ok(app);
      const push = seal(await authorizationEvent(app, [1, 2]));
      const faultedBefore = (await stack.sandbox.calls()).byOperation.exchangeAuthorizationCode?.faulted ?? 0;
      assert.equal((await stack.sandbox.control('PUT', '/faults', { errorRate: 1 })).status, 200);
      try {
        for (let i = 0; i < 2; i++) {
          const answer = await send('auth', push);
          assert.equal(answer.status, 503, JSON.stringify(answer.json));
          assert.equal((answer.json as unknown as ErrorAnswer).error.code, 'push_not_applied');
          assert.notEqual((answer.json as { result?: unknown }).result, 1);
        }
      } finally {
        assert.equal((await stack.sandbox.control('PUT', '/faults', { errorRate: 0 })).status, 200);
      }
      assert.ok(((await stack.sandbox.calls()).byOperation.exchangeAuthorizationCode?.faulted ?? 0) > faultedBefore, 'the exchange was tried');
      assert.equal((await rowsOf(push.msgId)).length, 0);
      assert.equal((await stack.api('GET', `/api/v1/merchants/${app}`, { key: stack.keys.viewer })).status, 404);
      assert.equal(await tokensOf(app), undefined);

      // The platform resends the same push once it is up again.
      acked(await send('auth', push), push.msgId);
      assert.equal((await rowsOf(push.msgId))[0]?.outcome, 'applied');
      assert.equal((await merchant(app)).status, 'authorized');
      assert.deepEqual(await auditActions(app, 'merchant.authorized'), ['merchant.authorized']);
      assert.ok(await tokensOf(app));
    });

    test('the sandbox delivered none of the withheld authorization events', () => {
      // The pushes the sandbox made for codes the tests delivered themselves: all recorded as undeliverable.
      const withheldPushes = stack.sandbox.sandbox.runtime.pushes
        .records()
        .filter((record: PushRecord) => record.target === 'authEvent' && record.event !== 'ticket');
      assert.ok(withheldPushes.length >= 8);
      for (const record of withheldPushes) {
        assert.equal(record.delivered, false, `${record.event} for ${record.appId ?? '?'} was not delivered by the sandbox`);
        assert.equal(record.url, '');
      }
    });
  });
}
