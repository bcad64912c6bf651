/**
 * The sandbox's pushes, received the way a component app receives them: a loopback receiver verifies and
 * decrypts every push with the client's `openPush` and answers `pushAck(msgId)` (or, on demand, wrongly).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildExtJson } from '../../src/kuaishou/ext-json.ts';
import type { PushRecord } from '../../src/sandbox/pushes.ts';
import { PushReceiver, type FailureMode } from '../helpers/push-receiver.ts';
import { startRawSandbox as startSandbox, type RawSandbox as Started } from '../helpers/raw-sandbox.ts';


// Seeded mini-programs (one per seeded merchant m000001…m000005).
const APP = (n: number): string => `ks${String(n).padStart(16, '0')}`;

describe('sandbox pushes', () => {
  let s: Started;
  let receiver: PushReceiver;

  const pushes = async (query = ''): Promise<PushRecord[]> => {
    const { status, body } = await s.control<{ items: PushRecord[] }>('GET', `/sandbox/api/pushes${query}`);
    assert.equal(status, 200);
    return body.items;
  };

  /** Polls the delivery log until the record of `msgId` (or the predicate's pick) is done. */
  const settled = async (pick: (items: PushRecord[]) => PushRecord | undefined, timeoutMs = 5000): Promise<PushRecord> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = pick(await pushes());
      if (record?.done) return record;
      if (Date.now() > deadline) throw new Error(`push record not done after ${timeoutMs} ms: ${JSON.stringify(record)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const byMsgId = (msgId: string) => (items: PushRecord[]) => items.find((record) => record.msgId === msgId);

  /** A fresh ticket, pushed through the control API and read by the receiver. */
  const ticket = async (): Promise<string> => {
    const before = receiver.events('ticket').length;
    assert.equal((await s.control('POST', '/sandbox/api/tickets')).status, 201);
    const push = await receiver.waitFor((r) => r.events('ticket')[before], 5000, 'a new ticket push');
    return push.event.ticket;
  };

  let componentToken = '';

  /** Authorizes `appId` through the control API and exchanges the code (T4) for its tokens. */
  const authorizedToken = async (appId: string, permissions: number[]): Promise<string> => {
    const { status, body } = await s.control<{ authorizationCode: string }>('POST', '/sandbox/api/authorizations', { appId, permissions });
    assert.equal(status, 201);
    const tokens = await s.client.exchangeAuthorizationCode(componentToken, body.authorizationCode);
    return tokens.accessToken;
  };

  before(async () => {
    s = await startSandbox();
    receiver = await PushReceiver.start(s.keys);
    const { status } = await s.control('PUT', '/sandbox/api/component', { authEventUrl: receiver.authEventUrl, messageUrl: receiver.messageUrl });
    assert.equal(status, 200);
  });

  after(async () => {
    await s.sandbox.close();
    await receiver.close();
  });

  test('start_push_ticket (T1) → a verified COMPONENT_TICKET push whose ticket gets a component token (T2)', async () => {
    const started = Date.now();
    assert.deepEqual(await s.client.startPushTicket(), {});
    const push = await receiver.waitForEvent('ticket');
    assert.equal(push.path, 'authEvent');
    assert.equal(push.componentAppId, s.keys.componentAppId);
    assert.equal(push.event.componentAppId, s.keys.componentAppId);
    assert.equal(push.event.expiresInS, 10_800);
    assert.ok(push.event.eventTime >= started - 1000 && push.event.eventTime <= Date.now() + 1000);
    assert.ok(push.timestamp >= started - 1000);
    assert.equal(push.acknowledged, true);

    const token = await s.client.getComponentAccessToken(push.event.ticket);
    assert.match(token.accessToken, /^ctoken_/);
    assert.equal(token.expiresInS, 7200);
    componentToken = token.accessToken;
    assert.ok((await s.client.listTemplates(componentToken)).length >= 2, 'the component token works');

    const record = await settled(byMsgId(push.msgId));
    assert.equal(record.delivered, true);
    assert.equal(record.target, 'authEvent');
    assert.equal(record.url, receiver.authEventUrl);
    assert.equal(record.attempts.length, 1);
    assert.equal(record.attempts[0]?.status, 200);
    assert.equal(receiver.rejected.length, 0);
  });

  const MODES: FailureMode[] = ['http500', 'wrongMessageId', 'wrongResult', 'notJson'];
  for (const mode of MODES) {
    test(`a push answered wrongly (${mode}) twice is resent and delivered on the 3rd attempt`, async () => {
      receiver.failNext(2, mode);
      const value = await ticket();
      const push = receiver.events('ticket', (event) => event.ticket === value)[0]!;
      const record = await settled(byMsgId(push.msgId));
      assert.equal(record.delivered, true);
      assert.equal(record.attempts.length, 3);
      assert.deepEqual(record.attempts.map((attempt) => attempt.ok), [false, false, true]);
      for (const attempt of record.attempts.slice(0, 2)) {
        assert.equal(attempt.status, mode === 'http500' ? 500 : 200);
        assert.match(attempt.error ?? '', /result/);
      }
      const deliveries = receiver.deliveries(push.msgId);
      assert.deepEqual(deliveries.map((d) => [d.delivery, d.acknowledged]), [[1, false], [2, false], [3, true]]);
      // A resend is the same push: same msgId, same ticket, same timestamp.
      for (const delivery of deliveries) {
        assert.deepEqual(delivery.event, push.event);
        assert.equal(delivery.timestamp, push.timestamp);
      }
      // The resent ticket is as good as any.
      assert.match((await s.client.getComponentAccessToken(value)).accessToken, /^ctoken_/);
    });
  }

  test('a push never acknowledged is sent 4 times (1 + 3 resends), then given up: delivered false', async () => {
    receiver.failNext(Number.POSITIVE_INFINITY, 'wrongMessageId');
    try {
      const value = await ticket();
      const push = receiver.events('ticket', (event) => event.ticket === value)[0]!;
      const record = await settled(byMsgId(push.msgId));
      assert.equal(record.delivered, false);
      assert.equal(record.done, true);
      assert.equal(record.attempts.length, 4);
      assert.ok(record.attempts.every((attempt) => !attempt.ok && attempt.status === 200));
      // Resends back off: each gap at least the configured delay, doubling (20, 40, 80 ms).
      const gaps = record.attempts.slice(1).map((attempt, i) => attempt.at - record.attempts[i]!.at);
      gaps.forEach((gap, i) => assert.ok(gap >= 20 * 2 ** i - 5, `gap ${i} is ${gap} ms`));
      assert.equal(receiver.deliveries(push.msgId).length, 4);
      // Every attempt is visible in the log, also through the filters.
      const listed = (await pushes(`?event=ticket&limit=5000`)).find((item) => item.msgId === push.msgId);
      assert.equal(listed?.attempts.length, 4);
    } finally {
      receiver.failNext(0);
    }
  });

  test('a push the receiver cannot verify (wrong TOKEN) is rejected there and resent like any failure', async () => {
    const keys = receiver.keys;
    receiver.keys = { ...keys, token: 'not-the-registered-token' };
    const rejectedBefore = receiver.rejected.length;
    const recordsBefore = (await pushes()).length;
    try {
      assert.equal((await s.control('POST', '/sandbox/api/tickets')).status, 201);
      const record = await settled((items) => items[recordsBefore]);
      assert.equal(record.delivered, false);
      assert.equal(record.attempts.length, 4);
      assert.ok(record.attempts.every((attempt) => attempt.status === 400));
      const rejected = receiver.rejected.slice(rejectedBefore);
      assert.equal(rejected.length, 4);
      assert.ok(rejected.every((r) => r.code === 'bad_signature' && r.path === 'authEvent'));
    } finally {
      receiver.keys = keys;
    }
  });

  test('authorization through the control API → AUTHORIZED with the code it returned; again → UPDATE_AUTHORIZED', async () => {
    const appId = APP(1);
    const first = await s.control<{ authorizationCode: string; expiresIn: number; updated: boolean }>('POST', '/sandbox/api/authorizations', {
      appId,
      permissions: [2, 1],
    });
    assert.equal(first.status, 201);
    assert.equal(first.body.updated, false);
    const authorized = await receiver.waitForEvent('authorized', (event) => event.appId === appId);
    assert.equal(authorized.path, 'authEvent');
    assert.equal(authorized.event.authorizationCode, first.body.authorizationCode);
    assert.equal(authorized.event.codeExpiresInS, first.body.expiresIn);
    assert.deepEqual(authorized.event.permissions, [
      { id: 1, category: 'development', description: '开发管理' },
      { id: 2, category: 'basicInfo', description: '基础信息管理' },
    ]);
    assert.equal((await settled(byMsgId(authorized.msgId))).appId, appId);

    // The pushed code is the one T4 takes.
    const tokens = await s.client.exchangeAuthorizationCode(componentToken, authorized.event.authorizationCode);
    assert.equal(tokens.appId, appId);
    assert.deepEqual(tokens.permissions.map((p) => p.id), [1, 2]);

    const second = await s.control<{ authorizationCode: string; updated: boolean }>('POST', '/sandbox/api/authorizations', { appId, permissions: [1, 2, 3] });
    assert.equal(second.status, 201);
    assert.equal(second.body.updated, true);
    const updated = await receiver.waitForEvent('authorizationUpdated', (event) => event.appId === appId);
    assert.equal(updated.event.type, 'authorizationUpdated');
    assert.equal(updated.event.authorizationCode, second.body.authorizationCode);
    assert.notEqual(updated.event.authorizationCode, authorized.event.authorizationCode);
    assert.deepEqual(updated.event.permissions.map((p) => p.id), [1, 2, 3]);
    const records = await pushes(`?appId=${appId}`);
    assert.deepEqual(records.map((r) => r.event), ['authorized', 'authorizationUpdated']);
  });

  test('revocation → UNAUTHORIZED; a recovered code → RE_AUTHORIZATION_CODE with the code the API returned', async () => {
    const appId = APP(2);
    await authorizedToken(appId, [1]);
    const code = await s.control<{ appId: string; authorizationCode: string; expiresIn: number }>('POST', '/sandbox/api/reauthorization-codes', { appId });
    assert.equal(code.status, 201);
    const recovered = await receiver.waitForEvent('reauthorizationCode', (event) => event.appId === appId);
    assert.equal(recovered.path, 'authEvent');
    assert.equal(recovered.event.authorizationCode, code.body.authorizationCode);
    assert.equal(recovered.event.codeExpiresInS, code.body.expiresIn);
    assert.equal((await s.client.exchangeAuthorizationCode(componentToken, recovered.event.authorizationCode)).appId, appId);

    assert.equal((await s.control('POST', '/sandbox/api/revocations', { appId })).status, 200);
    const revoked = await receiver.waitForEvent('unauthorized', (event) => event.appId === appId);
    assert.equal(revoked.path, 'authEvent');
    assert.equal(revoked.event.appId, appId);
    // Not authorized any more: no code to recover, no second revocation, no push for either.
    assert.equal((await s.control('POST', '/sandbox/api/reauthorization-codes', { appId })).status, 409);
    assert.equal((await s.control('POST', '/sandbox/api/revocations', { appId })).status, 409);
    const records = await pushes(`?appId=${appId}`);
    assert.deepEqual(records.map((r) => r.event), ['authorized', 'reauthorizationCode', 'unauthorized']);
  });

  test('audits decided → PACKAGE_AUDIT_RESULT to the message URL: pass, automatic reject, manual reject with reason', async () => {
    const appId = APP(3);
    const token = await authorizedToken(appId, [1]);
    const upload = (userVersion: string, extJson: Record<string, unknown>) =>
      s.client.uploadCode(token, { templateId: 1, userVersion, userDesc: `v${userVersion}`, extJson: buildExtJson(appId, { ext: extJson }) });

    await upload('1.0.0', { shop: 'A' });
    await s.client.submitAudit(token, { auditNote: 'first' });
    const passed = await receiver.waitForEvent('auditResult', (event) => event.appId === appId && event.userVersion === '1.0.0');
    assert.equal(passed.path, 'message');
    assert.equal(passed.event.passed, true);
    assert.equal(passed.event.reason, undefined);
    assert.equal((await s.client.getVersions(token)).audit?.status, 'passed');
    const record = await settled(byMsgId(passed.msgId));
    assert.equal(record.target, 'message');
    assert.equal(record.url, receiver.messageUrl);

    await upload('1.0.1', { sandboxReject: true });
    await s.client.submitAudit(token);
    const rejected = await receiver.waitForEvent('auditResult', (event) => event.appId === appId && event.userVersion === '1.0.1');
    assert.equal(rejected.event.passed, false);
    assert.match(rejected.event.reason ?? '', /sandboxReject/);

    assert.equal((await s.control('PUT', '/sandbox/api/component', { auditDelayMs: -1 })).status, 200);
    try {
      await upload('1.0.2', { shop: 'A' });
      await s.client.submitAudit(token);
      assert.equal((await s.client.getVersions(token)).audit?.status, 'auditing');
      const decided = await s.control('POST', `/sandbox/api/audits/${appId}`, { decision: 'reject', reason: '类目不符' });
      assert.equal(decided.status, 200);
      const manual = await receiver.waitForEvent('auditResult', (event) => event.appId === appId && event.userVersion === '1.0.2');
      assert.equal(manual.event.passed, false);
      assert.equal(manual.event.reason, '类目不符');
      assert.equal((await s.client.getVersions(token)).audit?.reason, '类目不符');
    } finally {
      await s.control('PUT', '/sandbox/api/component', { auditDelayMs: 50 });
    }
  });

  test('capabilities decided → CAPABILITY_RESULT to the message URL (approved, and rejected with reason)', async () => {
    const appId = APP(4);
    const token = await authorizedToken(appId, [1, 3, 4]);
    await s.client.applyCapability(token, { capability: 'shortVideoMount', reason: '挂载短视频' });
    const approved = await receiver.waitForEvent('capabilityResult', (event) => event.appId === appId && event.capability === 'shortVideoMount');
    assert.equal(approved.path, 'message');
    assert.equal(approved.event.status, 'approved');
    assert.equal((await s.client.getCapabilityStatus(token, 'shortVideoMount')).status, 'approved');

    await s.client.applyCapability(token, { capability: 'phoneNumber', reason: 'sandboxReject' });
    const rejected = await receiver.waitForEvent('capabilityResult', (event) => event.appId === appId && event.capability === 'phoneNumber');
    assert.equal(rejected.event.status, 'rejected');
    assert.match(rejected.event.reason ?? '', /sandboxReject/);
    const status = await s.client.getCapabilityStatus(token, 'phoneNumber');
    assert.equal(status.status, 'rejected');
    assert.equal(status.reason, rejected.event.reason);
  });

  test('with no URL registered a push is recorded as not delivered, with the reason', async () => {
    assert.equal((await s.control('PUT', '/sandbox/api/component', { authEventUrl: '', messageUrl: '' })).status, 200);
    try {
      const before = (await pushes()).length;
      const seen = receiver.received.length;
      assert.equal((await s.control('POST', '/sandbox/api/tickets')).status, 201);
      const appId = APP(5);
      assert.equal((await s.control('POST', '/sandbox/api/authorizations', { appId, permissions: [1] })).status, 201);
      const items = (await pushes()).slice(before);
      assert.deepEqual(items.map((r) => r.event), ['ticket', 'authorized']);
      for (const record of items) {
        assert.equal(record.delivered, false);
        assert.equal(record.done, true);
        assert.equal(record.url, '');
        assert.equal(record.attempts.length, 1);
        assert.match(record.attempts[0]?.error ?? '', /no authorization-event URL registered/);
      }
      // Message URL: an audit decided by hand.
      const token = await authorizedToken(appId, [1]);
      await s.control('PUT', '/sandbox/api/component', { auditDelayMs: -1 });
      await s.client.uploadCode(token, { templateId: 1, userVersion: '2.0.0', userDesc: '', extJson: buildExtJson(appId, { ext: {} }) });
      await s.client.submitAudit(token);
      assert.equal((await s.control('POST', `/sandbox/api/audits/${appId}`, { decision: 'pass' })).status, 200);
      const audit = (await pushes(`?event=auditResult&appId=${appId}`)).at(-1);
      assert.equal(audit?.delivered, false);
      assert.match(audit?.attempts[0]?.error ?? '', /no message URL registered/);
      assert.equal(receiver.received.length, seen, 'nothing reached the receiver');
    } finally {
      await s.control('PUT', '/sandbox/api/component', { authEventUrl: receiver.authEventUrl, messageUrl: receiver.messageUrl, auditDelayMs: 50 });
    }
  });

  test('after POST /sandbox/api/reset pushes are still resent', async () => {
    assert.equal((await s.control('POST', '/sandbox/api/reset')).status, 200);
    receiver.failNext(1, 'http500');
    const value = await ticket();
    const push = receiver.events('ticket', (event) => event.ticket === value)[0]!;
    const record = await settled(byMsgId(push.msgId));
    assert.equal(record.attempts.length, 2);
    assert.equal(record.delivered, true);
  });

  test('every push that reached the receiver verified and decrypted', () => {
    const unexpected = receiver.rejected.filter((r) => r.code !== 'bad_signature');
    assert.deepEqual(unexpected, []);
  });
});
