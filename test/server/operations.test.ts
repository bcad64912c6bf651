/**
 * Every per-merchant operation through the REST API against the sandbox: the answer, the sandbox's
 * resulting state (or its call counts where that proves a call did or did not happen), and the audit log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CAPABILITY_NAMES } from '../../src/fleet/model.ts';
import { waitFor } from '../helpers/sandbox.ts';
import {
  assertError,
  auditLog,
  authorizeMerchant,
  extJsonOf,
  keyIdOf,
  revokeMerchant,
  sandboxApp,
  sandboxCalls,
  sandboxState,
  type AuditEntry,
} from '../helpers/rest.ts';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

/** All four permission sets: the version and domain flows. */
const APP = 'ks0000000000000001';
/** Authorized without permission set 2 (basic info: domains). */
const NO_DOMAINS_APP = 'ks0000000000000002';
/** Authorized, then revoked. */
const REVOKED_APP = 'ks0000000000000003';
/** Capabilities. */
const CAPABILITY_APP = 'ks0000000000000004';
const UNKNOWN_APP = 'ks9999999999999999';

const WIRE_CAPABILITY: Record<(typeof CAPABILITY_NAMES)[number], string> = {
  'short-video-mount': 'SHORT_VIDEO_MOUNT',
  'live-mount': 'LIVE_MOUNT',
  'publish-kuaishou': 'PUBLISH_KUAISHOU',
  'phone-number': 'PHONE_NUMBER',
};

interface ServerDomains {
  request: string[];
  socket: string[];
  uploadFile: string[];
  downloadFile: string[];
  udp: string[];
}

interface VersionsJson {
  dev: { userVersion: string; userDesc: string; templateId: number; createdAt: number } | null;
  audit: { userVersion: string; status: string; submittedAt: number } | null;
  online: { userVersion: string; releasedAt: number; canRollback: boolean; rollbackVersion?: string } | null;
}

interface CapabilityJson {
  appId: string;
  capability: string;
  status: string;
  reason: string | null;
}

const EMPTY_SERVER_DOMAINS: ServerDomains = { request: [], socket: [], uploadFile: [], downloadFile: [], udp: [] };

function assertPng(answer: ApiAnswer<unknown>): void {
  assert.equal(answer.status, 200, answer.bytes.toString('utf8').slice(0, 300));
  assert.equal(answer.headers.get('content-type'), 'image/png');
  assert.deepEqual([...answer.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
}

for (const dialect of dialectTargets()) {
  describe(`per-merchant operations on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    /** What the audit log must hold for APP, oldest first: `action:result:errorCode`. */
    const expectedLog: string[] = [];

    const call = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, appId = APP): Promise<ApiAnswer<T>> =>
      stack.api<T>(method, `/api/v1/merchants/${appId}${path}`, { key: stack.keys.operator, ...(body === undefined ? {} : { body }) });
    const versions = async (appId = APP): Promise<VersionsJson> => {
      const answer = await stack.api<VersionsJson>('GET', `/api/v1/merchants/${appId}/versions`, { key: stack.keys.viewer });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      return answer.json;
    };
    const platformCodeName = (answer: ApiAnswer<unknown>, status: number, name: string): void => {
      const error = assertError(answer, status, 'platform_error', name);
      assert.equal(error.details.platformCodeName, name);
      assert.equal(typeof error.details.platformCode, 'number');
    };

    before(async () => {
      stack = await startStack(dialect);
      await stack.ready();
      // Audits decided by hand; capability decisions slow enough to see `applying` first.
      const component = await stack.sandbox.control('PUT', '/component', { auditDelayMs: -1, capabilityDelayMs: 200 });
      assert.equal(component.status, 200);
      await authorizeMerchant(stack, APP);
      expectedLog.push('merchant.authorized:ok:null');
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('server domains: add, set, delete and get reach the platform', async () => {
      const added = await call<ServerDomains>('POST', '/domains/server', {
        action: 'add',
        request: ['https://api.example.com', 'https://API.example.com'],
        uploadFile: ['https://up.example.com'],
        udp: ['udp://udp.example.com'],
      });
      assert.equal(added.status, 200, JSON.stringify(added.json));
      assert.deepEqual(added.json, { ...EMPTY_SERVER_DOMAINS, request: ['https://api.example.com'], uploadFile: ['https://up.example.com'], udp: ['udp://udp.example.com'] });
      expectedLog.push('domains.server:ok:null');
      assert.deepEqual((await sandboxApp(stack, APP)).serverDomains, added.json, 'the sandbox holds what the answer says');

      const again = await call<ServerDomains>('POST', '/domains/server', { action: 'add', request: ['https://api.example.com', 'https://api2.example.com'] });
      assert.equal(again.status, 200);
      assert.deepEqual(again.json.request, ['https://api.example.com', 'https://api2.example.com'], 'no duplicates');
      expectedLog.push('domains.server:ok:null');

      const replaced = await call<ServerDomains>('POST', '/domains/server', { action: 'set', socket: ['wss://ws.example.com'], downloadFile: ['https://dl.example.com'] });
      assert.equal(replaced.status, 200);
      assert.deepEqual(replaced.json, { ...EMPTY_SERVER_DOMAINS, socket: ['wss://ws.example.com'], downloadFile: ['https://dl.example.com'] }, 'set replaces every list');
      expectedLog.push('domains.server:ok:null');

      const deleted = await call<ServerDomains>('POST', '/domains/server', { action: 'delete', downloadFile: ['https://dl.example.com'] });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.json, { ...EMPTY_SERVER_DOMAINS, socket: ['wss://ws.example.com'] });
      expectedLog.push('domains.server:ok:null');
      assert.deepEqual((await sandboxApp(stack, APP)).serverDomains, deleted.json);

      const before = await sandboxCalls(stack, 'serverDomains');
      const read = await stack.api<ServerDomains>('GET', `/api/v1/merchants/${APP}/domains/server`, { key: stack.keys.viewer });
      assert.equal(read.status, 200);
      assert.deepEqual(read.json, deleted.json);
      const viaPost = await call<ServerDomains>('POST', '/domains/server', { action: 'get' });
      assert.equal(viaPost.status, 200);
      assert.deepEqual(viaPost.json, deleted.json);
      assert.equal(await sandboxCalls(stack, 'serverDomains'), before + 2, 'each read asked the platform');
    });

    test('webview domains: add, set, delete and get reach the platform', async () => {
      const added = await call<{ domains: string[] }>('POST', '/domains/webview', { action: 'add', domains: ['https://h5.example.com', 'https://shop.example.com'] });
      assert.equal(added.status, 200, JSON.stringify(added.json));
      assert.deepEqual(added.json.domains, ['https://h5.example.com', 'https://shop.example.com']);
      expectedLog.push('domains.webview:ok:null');
      assert.deepEqual((await sandboxApp(stack, APP)).webviewDomains, added.json.domains);

      const deleted = await call<{ domains: string[] }>('POST', '/domains/webview', { action: 'delete', domains: ['https://shop.example.com'] });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.json.domains, ['https://h5.example.com']);
      expectedLog.push('domains.webview:ok:null');

      const replaced = await call<{ domains: string[] }>('POST', '/domains/webview', { action: 'set', domains: ['https://m.example.com'] });
      assert.equal(replaced.status, 200);
      assert.deepEqual(replaced.json.domains, ['https://m.example.com']);
      expectedLog.push('domains.webview:ok:null');
      assert.deepEqual((await sandboxApp(stack, APP)).webviewDomains, ['https://m.example.com']);

      const read = await stack.api<{ domains: string[] }>('GET', `/api/v1/merchants/${APP}/domains/webview`, { key: stack.keys.viewer });
      assert.equal(read.status, 200);
      assert.deepEqual(read.json, { domains: ['https://m.example.com'] });
      const viaPost = await call<{ domains: string[] }>('POST', '/domains/webview', { action: 'get' });
      assert.deepEqual(viaPost.json, { domains: ['https://m.example.com'] });
    });

    test('a domain outside the registered ones, or with the wrong scheme, is refused before any platform call', async () => {
      const callsBefore = await sandboxCalls(stack);
      const appBefore = await sandboxApp(stack, APP);
      const refused: [string, unknown][] = [
        ['/domains/server', { action: 'add', request: ['https://evil.org'] }],
        ['/domains/server', { action: 'add', request: ['https://example.com.evil.org'] }],
        ['/domains/server', { action: 'set', request: ['https://api.example.com', 'https://notexample.com'] }],
        ['/domains/server', { action: 'add', request: ['http://api.example.com'] }],
        ['/domains/server', { action: 'add', socket: ['https://ws.example.com'] }],
        ['/domains/server', { action: 'add', udp: ['https://udp.example.com'] }],
        ['/domains/server', { action: 'add', request: ['https://api.example.com/path'] }],
        ['/domains/server', { action: 'add', request: ['api.example.com'] }],
        ['/domains/server', { action: 'delete', request: ['https://evil.org'] }],
        ['/domains/webview', { action: 'add', domains: ['https://evil.org'] }],
        ['/domains/webview', { action: 'set', domains: ['http://h5.example.com'] }],
      ];
      for (const [path, body] of refused) {
        const answer = await call('POST', path, body);
        const error = assertError(answer, 400, 'invalid_request', JSON.stringify(body));
        assert.ok(Array.isArray(error.details.problems), 'the problems are listed');
      }
      assert.equal(await sandboxCalls(stack), callsBefore, 'no call reached the sandbox');
      assert.deepEqual(await sandboxApp(stack, APP), appBefore, 'the sandbox state is unchanged');
    });

    test('deleting a domain that is not configured → 422 with the platform code 403106', async () => {
      const before = await sandboxCalls(stack, 'serverDomains');
      const answer = await call('POST', '/domains/server', { action: 'delete', request: ['https://absent.example.com'] });
      const error = assertError(answer, 422, 'platform_error');
      assert.equal(error.details.platformCode, 403106);
      assert.equal(error.details.platformCodeName, 'DOMAIN_NOT_FOUND');
      expectedLog.push('domains.server:error:DOMAIN_NOT_FOUND');
      assert.equal(await sandboxCalls(stack, 'serverDomains'), before + 1, 'the platform decided');

      const webview = await call('POST', '/domains/webview', { action: 'delete', domains: ['https://absent.example.com'] });
      assert.equal(assertError(webview, 422, 'platform_error').details.platformCode, 403106);
      expectedLog.push('domains.webview:error:DOMAIN_NOT_FOUND');
    });

    test('upload: ext config as an object and as JSON text; an ext that is not a JSON object → 400', async () => {
      const first = await call('POST', '/code', { templateId: 1, userVersion: '1.0.0', userDesc: 'first', extJson: { shopId: 7, name: '川味小馆' } });
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.deepEqual(first.json, { ok: true });
      expectedLog.push('code.upload:ok:null');
      const dev = (await sandboxApp(stack, APP)).versions.dev;
      assert.equal(dev?.user_version, '1.0.0');
      assert.deepEqual(JSON.parse(stack.sandbox.sandbox.runtime.state.app(APP)?.dev?.extJson ?? 'null'), extJsonOf(APP, { shopId: 7, name: '川味小馆' }));

      const text = '{"shopId":8,"theme":"red"}';
      const second = await call('POST', '/code', { templateId: 2, userVersion: '1.0.1', extJson: text });
      assert.equal(second.status, 200, JSON.stringify(second.json));
      expectedLog.push('code.upload:ok:null');
      assert.deepEqual(JSON.parse(stack.sandbox.sandbox.runtime.state.app(APP)?.dev?.extJson ?? 'null'), extJsonOf(APP, JSON.parse(text) as Record<string, unknown>), 'JSON text is the custom config');
      const shown = await versions();
      assert.equal(shown.dev?.userVersion, '1.0.1');
      assert.equal(shown.dev?.templateId, 2);
      assert.equal(shown.dev?.userDesc, '', 'userDesc defaults to empty');

      const uploadsBefore = await sandboxCalls(stack, 'uploadCode');
      for (const extJson of ['[1,2]', '"text"', 'null', '42', 'not json', '{"unterminated":', [1, 2], 42.5, true]) {
        const answer = await call('POST', '/code', { templateId: 1, userVersion: '9.9.9', extJson });
        assertError(answer, 400, 'invalid_request', `extJson ${JSON.stringify(extJson)}`);
      }
      assert.equal(await sandboxCalls(stack, 'uploadCode'), uploadsBefore, 'no bad ext reached the platform');
      assert.equal((await sandboxApp(stack, APP)).versions.dev?.user_version, '1.0.1');

      const unknownTemplate = await call('POST', '/code', { templateId: 999, userVersion: '9.9.9', extJson: {} });
      assert.equal(assertError(unknownTemplate, 422, 'platform_error').details.platformCodeName, 'TEMPLATE_NOT_FOUND');
      expectedLog.push('code.upload:error:TEMPLATE_NOT_FOUND');
    });

    test('audit: submit (no body needed), submit again → 409, withdraw, withdraw again → 409; QR codes', async () => {
      assertPng(await stack.api('GET', `/api/v1/merchants/${APP}/qrcode`, { key: stack.keys.viewer }));
      assertPng(await stack.api('GET', `/api/v1/merchants/${APP}/qrcode?version=latest&path=${encodeURIComponent('pages/index?shop=7')}`, { key: stack.keys.viewer }));
      platformCodeName(await stack.api('GET', `/api/v1/merchants/${APP}/qrcode?version=audit`, { key: stack.keys.viewer }), 409, 'NOT_AUDITING');

      const submitted = await call('POST', '/audit');
      assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
      expectedLog.push('audit.submit:ok:null');
      assert.equal((await sandboxApp(stack, APP)).versions.audit?.status, 'AUDITING');
      const shown = await versions();
      assert.equal(shown.audit?.status, 'auditing');
      assert.equal(shown.audit?.userVersion, '1.0.1');
      const merchant = await stack.api<{ lastAudit: { state: string; userVersion: string } | null }>('GET', `/api/v1/merchants/${APP}`);
      assert.deepEqual(merchant.json.lastAudit && [merchant.json.lastAudit.state, merchant.json.lastAudit.userVersion], ['auditing', '1.0.1']);

      assertPng(await stack.api('GET', `/api/v1/merchants/${APP}/qrcode?version=audit`, { key: stack.keys.viewer }));

      platformCodeName(await call('POST', '/audit', { note: 'again' }), 409, 'AUDIT_IN_PROGRESS');
      expectedLog.push('audit.submit:error:AUDIT_IN_PROGRESS');

      const withdrawn = await call('POST', '/audit/withdraw');
      assert.equal(withdrawn.status, 200, JSON.stringify(withdrawn.json));
      expectedLog.push('audit.withdraw:ok:null');
      assert.equal((await sandboxApp(stack, APP)).versions.audit, null);
      assert.equal((await versions()).audit, null);
      const afterWithdraw = await stack.api<{ lastAudit: { state: string } | null }>('GET', `/api/v1/merchants/${APP}`);
      assert.equal(afterWithdraw.json.lastAudit?.state, 'withdrawn');

      platformCodeName(await call('POST', '/audit/withdraw'), 409, 'NOT_AUDITING');
      expectedLog.push('audit.withdraw:error:NOT_AUDITING');
      platformCodeName(await stack.api('GET', `/api/v1/merchants/${APP}/qrcode?version=audit`, { key: stack.keys.viewer }), 409, 'NOT_AUDITING');
    });

    test('release after an audit passed by hand; release again → 409; rollback after the first release → 409', async () => {
      platformCodeName(await call('POST', '/release'), 409, 'NO_PASSED_AUDIT');
      expectedLog.push('release:error:NO_PASSED_AUDIT');

      assert.equal((await call('POST', '/audit', { note: '首次提审' })).status, 200);
      expectedLog.push('audit.submit:ok:null');
      // auditDelayMs -1: nothing decides until the control API does.
      assert.equal((await sandboxApp(stack, APP)).versions.audit?.status, 'AUDITING');
      const decided = await stack.sandbox.control('POST', `/audits/${APP}`, { decision: 'pass' });
      assert.equal(decided.status, 200, JSON.stringify(decided.json));
      await waitFor(
        async () => ((await stack.api<{ lastAudit: { state: string } | null }>('GET', `/api/v1/merchants/${APP}`)).json.lastAudit?.state === 'passed' ? true : undefined),
        { timeoutMs: 5000, intervalMs: 20, what: 'the audit result push' },
      );
      assert.equal((await versions()).audit?.status, 'passed');

      const released = await call('POST', '/release');
      assert.equal(released.status, 200, JSON.stringify(released.json));
      expectedLog.push('release:ok:null');
      const online = (await sandboxApp(stack, APP)).versions.online;
      assert.equal(online?.user_version, '1.0.1');
      assert.equal(online?.rollback?.can_rollback, false);
      const shown = await versions();
      assert.equal(shown.online?.userVersion, '1.0.1');
      assert.equal(shown.online?.canRollback, false);
      assert.equal(shown.audit, null);

      platformCodeName(await call('POST', '/release'), 409, 'NO_PASSED_AUDIT');
      expectedLog.push('release:error:NO_PASSED_AUDIT');
      platformCodeName(await call('POST', '/rollback'), 409, 'ROLLBACK_NOT_ALLOWED');
      expectedLog.push('rollback:error:ROLLBACK_NOT_ALLOWED');
    });

    test('a second release, then rollback → the previous version is online again', async () => {
      assert.equal((await call('POST', '/code', { templateId: 2, userVersion: '2.0.0', userDesc: 'second', extJson: { shopId: 8 } })).status, 200);
      expectedLog.push('code.upload:ok:null');
      assert.equal((await call('POST', '/audit', {})).status, 200);
      expectedLog.push('audit.submit:ok:null');
      assert.equal((await stack.sandbox.control('POST', `/audits/${APP}`, { decision: 'pass' })).status, 200);
      assert.equal((await call('POST', '/release')).status, 200);
      expectedLog.push('release:ok:null');

      const beforeRollback = await versions();
      assert.equal(beforeRollback.online?.userVersion, '2.0.0');
      assert.equal(beforeRollback.online?.canRollback, true);
      assert.equal(beforeRollback.online?.rollbackVersion, '1.0.1');

      const rolledBack = await call('POST', '/rollback');
      assert.equal(rolledBack.status, 200, JSON.stringify(rolledBack.json));
      expectedLog.push('rollback:ok:null');
      const shown = await versions();
      assert.equal(shown.online?.userVersion, '1.0.1', 'the previous version is online');
      assert.equal(shown.online?.canRollback, false);
      assert.equal(shown.dev?.userVersion, '2.0.0', 'the development version stays');
      assert.equal((await sandboxApp(stack, APP)).versions.online?.user_version, '1.0.1');

      platformCodeName(await call('POST', '/rollback'), 409, 'ROLLBACK_NOT_ALLOWED');
      expectedLog.push('rollback:error:ROLLBACK_NOT_ALLOWED');
    });

    test('versions answer {dev, audit, online}, each null when absent', async () => {
      await authorizeMerchant(stack, CAPABILITY_APP);
      const fresh = await stack.api('GET', `/api/v1/merchants/${CAPABILITY_APP}/versions`, { key: stack.keys.viewer });
      assert.equal(fresh.status, 200);
      assert.deepEqual(fresh.json, { dev: null, audit: null, online: null });

      const full = await stack.api<Record<string, Record<string, unknown>>>('GET', `/api/v1/merchants/${APP}/versions`, { key: stack.keys.viewer });
      assert.deepEqual(Object.keys(full.json).sort(), ['audit', 'dev', 'online']);
      assert.deepEqual(Object.keys(full.json.dev ?? {}).sort(), ['createdAt', 'templateId', 'userDesc', 'userVersion']);
      assert.equal(full.json.audit, null);
      assert.deepEqual(Object.keys(full.json.online ?? {}).sort(), ['canRollback', 'releasedAt', 'templateId', 'userDesc', 'userVersion']);
      for (const field of ['createdAt', 'templateId']) assert.equal(typeof full.json.dev?.[field], 'number');
      assert.ok(Number(full.json.online?.releasedAt) > Date.now() - 600_000, 'times are epoch milliseconds');
    });

    test('capabilities: apply each → applying, again → 409, status → approved', async () => {
      for (const capability of CAPABILITY_NAMES) {
        const applied = await call<CapabilityJson>('POST', `/capabilities/${capability}`, { reason: `需要${capability}` }, CAPABILITY_APP);
        assert.equal(applied.status, 200, JSON.stringify(applied.json));
        assert.equal(applied.json.capability, capability);
        assert.equal(applied.json.status, 'applying');
        assert.ok((await sandboxApp(stack, CAPABILITY_APP)).capabilities[WIRE_CAPABILITY[capability]], `${capability} reached the platform`);

        const again = await call('POST', `/capabilities/${capability}`, undefined, CAPABILITY_APP);
        assert.equal(assertError(again, 409, 'platform_error').details.platformCodeName, 'CAPABILITY_IN_PROGRESS');
      }
      for (const capability of CAPABILITY_NAMES) {
        const approved = await waitFor(
          async () => {
            const status = await stack.api<CapabilityJson>('GET', `/api/v1/merchants/${CAPABILITY_APP}/capabilities/${capability}`, { key: stack.keys.viewer });
            assert.equal(status.status, 200, JSON.stringify(status.json));
            return status.json.status === 'approved' ? status.json : undefined;
          },
          { timeoutMs: 5000, intervalMs: 25, what: `${capability} approved` },
        );
        assert.deepEqual([approved.appId, approved.capability, approved.reason], [CAPABILITY_APP, capability, null]);
        assert.equal((await sandboxApp(stack, CAPABILITY_APP)).capabilities[WIRE_CAPABILITY[capability]]?.status, 'APPROVED');
      }
      const merchant = await stack.api<{ capabilities: CapabilityJson[] }>('GET', `/api/v1/merchants/${CAPABILITY_APP}`, { key: stack.keys.viewer });
      assert.deepEqual(merchant.json.capabilities.map((c) => `${c.capability}:${c.status}`).sort(), CAPABILITY_NAMES.map((c) => `${c}:approved`).sort());

      const log = await auditLog(stack, `appId=${CAPABILITY_APP}&action=capability.apply`);
      assert.equal(log.filter((e) => e.result === 'ok').length, 4);
      assert.deepEqual(log.filter((e) => e.result === 'error').map((e) => e.errorCode), ['CAPABILITY_IN_PROGRESS', 'CAPABILITY_IN_PROGRESS', 'CAPABILITY_IN_PROGRESS', 'CAPABILITY_IN_PROGRESS']);

      const callsBefore = await sandboxCalls(stack);
      assertError(await call('POST', '/capabilities/teleport', {}, CAPABILITY_APP), 400, 'invalid_request');
      assertError(await call('POST', '/capabilities/PHONE_NUMBER', undefined, CAPABILITY_APP), 400, 'invalid_request');
      assertError(await stack.api('GET', `/api/v1/merchants/${CAPABILITY_APP}/capabilities/phoneNumber`), 400, 'invalid_request');
      assert.equal(await sandboxCalls(stack), callsBefore, 'unknown capabilities never reach the platform');
    });

    test('without permission set 2, domain operations → 422 PERMISSION_DENIED from the platform', async () => {
      await authorizeMerchant(stack, NO_DOMAINS_APP, [1, 3, 4]);
      const before = await sandboxApp(stack, NO_DOMAINS_APP);
      const answers = [
        await stack.api('GET', `/api/v1/merchants/${NO_DOMAINS_APP}/domains/server`, { key: stack.keys.viewer }),
        await call('POST', '/domains/server', { action: 'add', request: ['https://api.example.com'] }, NO_DOMAINS_APP),
        await stack.api('GET', `/api/v1/merchants/${NO_DOMAINS_APP}/domains/webview`, { key: stack.keys.viewer }),
        await call('POST', '/domains/webview', { action: 'set', domains: ['https://h5.example.com'] }, NO_DOMAINS_APP),
      ];
      for (const answer of answers) {
        const error = assertError(answer, 422, 'platform_error');
        assert.equal(error.details.platformCodeName, 'PERMISSION_DENIED');
        assert.equal(error.details.platformCode, 403001);
      }
      assert.deepEqual(await sandboxApp(stack, NO_DOMAINS_APP), before);
      const log = await auditLog(stack, `appId=${NO_DOMAINS_APP}`);
      assert.deepEqual(
        log.filter((e) => e.actorRole !== 'system').map((e) => `${e.action}:${e.result}:${e.errorCode}`),
        ['domains.webview:error:PERMISSION_DENIED', 'domains.server:error:PERMISSION_DENIED'],
      );
      // Permission set 1 (development) is there: the version calls work.
      assert.equal((await stack.api('GET', `/api/v1/merchants/${NO_DOMAINS_APP}/versions`)).status, 200);
    });

    test('unknown merchant → 404 merchant_not_found on every per-merchant route, without a platform call', async () => {
      const callsBefore = await sandboxCalls(stack);
      const requests: [string, string, unknown?][] = [
        ['GET', ''],
        ['GET', '/domains/server'],
        ['POST', '/domains/server', { action: 'add', request: ['https://api.example.com'] }],
        ['GET', '/domains/webview'],
        ['POST', '/domains/webview', { action: 'add', domains: ['https://h5.example.com'] }],
        ['POST', '/code', { templateId: 1, userVersion: '1.0.0', extJson: {} }],
        ['POST', '/audit', {}],
        ['POST', '/audit/withdraw'],
        ['GET', '/qrcode'],
        ['GET', '/versions'],
        ['POST', '/release'],
        ['POST', '/rollback'],
        ['POST', '/capabilities/live-mount', {}],
        ['GET', '/capabilities/live-mount'],
      ];
      for (const [method, path, body] of requests) {
        assertError(await call(method, path, body, UNKNOWN_APP), 404, 'merchant_not_found', `${method} ${path}`);
      }
      assert.equal(await sandboxCalls(stack), callsBefore);
      const log = await auditLog(stack, `appId=${UNKNOWN_APP}`);
      assert.equal(log.length, 8, 'each of the 8 mutating attempts is in the audit log');
      assert.ok(log.every((e) => e.result === 'error' && e.errorCode === 'merchant_not_found'));
    });

    test('revoked merchant → 409 merchant_not_authorized, without a platform call', async () => {
      await authorizeMerchant(stack, REVOKED_APP);
      await revokeMerchant(stack, REVOKED_APP);
      const callsBefore = await sandboxCalls(stack);
      const requests: [string, string, unknown?][] = [
        ['GET', '/domains/server'],
        ['POST', '/domains/server', { action: 'add', request: ['https://api.example.com'] }],
        ['POST', '/domains/webview', { action: 'add', domains: ['https://h5.example.com'] }],
        ['POST', '/code', { templateId: 1, userVersion: '1.0.0', extJson: {} }],
        ['POST', '/audit'],
        ['POST', '/audit/withdraw'],
        ['GET', '/qrcode'],
        ['GET', '/versions'],
        ['POST', '/release'],
        ['POST', '/rollback'],
        ['POST', '/capabilities/short-video-mount'],
        ['GET', '/capabilities/short-video-mount'],
      ];
      for (const [method, path, body] of requests) {
        assertError(await call(method, path, body, REVOKED_APP), 409, 'merchant_not_authorized', `${method} ${path}`);
      }
      assert.equal(await sandboxCalls(stack), callsBefore);
      const merchant = await stack.api<{ status: string; revokedAt: number | null }>('GET', `/api/v1/merchants/${REVOKED_APP}`);
      assert.equal(merchant.status, 200, 'a revoked merchant can still be read');
      assert.equal(merchant.json.status, 'revoked');
      assert.equal(typeof merchant.json.revokedAt, 'number');
      const log = await auditLog(stack, `appId=${REVOKED_APP}`);
      assert.deepEqual(log.slice(0, 8).map((e) => e.errorCode), Array<string>(8).fill('merchant_not_authorized'));
      assert.ok(log.some((e) => e.action === 'merchant.revoked' && e.actorRole === 'system'));
    });

    test('templates: the sandbox’s template library, as synced', async () => {
      const added = await stack.sandbox.control('POST', '/templates', { userVersion: '3.0.0', userDesc: '新增外卖' });
      assert.equal(added.status, 201);
      assert.equal((await stack.api('POST', '/api/v1/templates/sync', { key: stack.keys.operator })).status, 200);
      const answer = await stack.api<{ items: { templateId: number; userVersion: string; userDesc: string; createdAt: number }[] }>('GET', '/api/v1/templates', { key: stack.keys.viewer });
      assert.equal(answer.status, 200);
      const expected = (await sandboxState(stack)).templates.map(({ templateId, userVersion, userDesc }) => ({ templateId, userVersion, userDesc }));
      assert.deepEqual(answer.json.items.map(({ templateId, userVersion, userDesc }) => ({ templateId, userVersion, userDesc })), expected);
      assert.equal(answer.json.items.length, 3);
      assert.ok(answer.json.items.every((t) => t.createdAt > 0));
    });

    test('every mutating call is in the audit log with actor key id, action and result', async () => {
      const entries = (await auditLog(stack, `appId=${APP}`)).reverse();
      assert.deepEqual(entries.map((e) => `${e.action}:${e.result}:${e.errorCode}`), expectedLog);
      const operatorId = keyIdOf(stack.keys.operator);
      for (const entry of entries.slice(1)) {
        assert.equal(entry.actorKeyId, operatorId, `${entry.action} by the operator key`);
        assert.equal(entry.actorRole, 'operator');
        assert.equal(entry.appId, APP);
        assert.ok(entry.at > 0 && entry.at <= Date.now());
      }
      assert.deepEqual([entries[0]?.actorKeyId, entries[0]?.actorRole], [null, 'system'], 'authorization is recorded as the system');
      const upload = entries.find((e) => e.action === 'code.upload' && e.result === 'ok');
      assert.deepEqual(upload?.summary, { templateId: 1, userVersion: '1.0.0' }, 'the summary says what was done, not the ext config');
      const domains = entries.find((e) => e.action === 'domains.server');
      assert.equal(domains?.summary.action, 'add');

      const byActor = await auditLog(stack, `actor=${operatorId}&action=release`);
      assert.ok(byActor.length >= 4 && byActor.every((e) => e.action === 'release' && e.actorKeyId === operatorId));
    });

    test('paging: merchants by limit and cursor, status and q filters; the audit log by limit and cursor', async () => {
      const created = await stack.sandbox.newApps(25);
      assert.equal(created.length, 25);
      await Promise.all(created.map((appId) => stack.sandbox.control('POST', '/authorizations', { appId, permissions: [1] })));
      const everyone = [APP, NO_DOMAINS_APP, REVOKED_APP, CAPABILITY_APP, ...created].sort();
      await waitFor(
        async () => ((await stack.api<{ items: unknown[] }>('GET', '/api/v1/merchants?limit=200')).json.items.length === everyone.length ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 50, what: '25 new merchants listed' },
      );

      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const answer: ApiAnswer<{ items: { appId: string }[]; nextCursor: string | null }> = await stack.api(
          'GET',
          `/api/v1/merchants?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { key: stack.keys.viewer },
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        pages.push(answer.json.items.map((m) => m.appId));
        cursor = answer.json.nextCursor;
      } while (cursor && pages.length < 10);
      assert.deepEqual(pages.map((page) => page.length), [10, 10, 9]);
      assert.deepEqual(pages.flat(), everyone, 'every merchant once, in app id order');

      const revoked = await stack.api<{ items: { appId: string; status: string }[]; nextCursor: string | null }>('GET', '/api/v1/merchants?status=revoked');
      assert.deepEqual(revoked.json.items.map((m) => m.appId), [REVOKED_APP]);
      assert.equal(revoked.json.nextCursor, null);
      const authorized = await stack.api<{ items: { appId: string; status: string }[] }>('GET', '/api/v1/merchants?status=authorized&limit=200');
      assert.deepEqual(authorized.json.items.map((m) => m.appId), everyone.filter((id) => id !== REVOKED_APP));

      const one = await stack.api<{ items: { appId: string }[] }>('GET', '/api/v1/merchants?q=0012');
      assert.deepEqual(one.json.items.map((m) => m.appId), ['ks0000000000000012']);
      const decade = created.filter((id) => id.startsWith('ks000000000000002'));
      assert.equal(decade.length, 10);
      const firstPage = await stack.api<{ items: { appId: string }[]; nextCursor: string | null }>('GET', '/api/v1/merchants?q=KS000000000000002&limit=6');
      assert.deepEqual(firstPage.json.items.map((m) => m.appId), decade.slice(0, 6), 'q is case-insensitive');
      assert.ok(firstPage.json.nextCursor);
      const secondPage = await stack.api<{ items: { appId: string }[]; nextCursor: string | null }>(
        'GET',
        `/api/v1/merchants?q=KS000000000000002&limit=6&cursor=${encodeURIComponent(firstPage.json.nextCursor)}`,
      );
      assert.deepEqual(secondPage.json.items.map((m) => m.appId), decade.slice(6));
      assert.equal(secondPage.json.nextCursor, null);
      const filtered = await stack.api<{ items: unknown[] }>('GET', '/api/v1/merchants?q=ks0000000000000003&status=authorized');
      assert.deepEqual(filtered.json.items, [], 'filters combine');
      const none = await stack.api<{ items: unknown[]; nextCursor: null }>('GET', '/api/v1/merchants?q=%25_');
      assert.deepEqual(none.json, { items: [], nextCursor: null }, 'LIKE wildcards are taken literally');

      const all = await auditLog(stack);
      assert.ok(all.length > 60, `a long audit log (${all.length})`);
      const paged: AuditEntry[] = [];
      cursor = null;
      for (let page = 0; page < 100; page++) {
        const answer: ApiAnswer<{ items: AuditEntry[]; nextCursor: string | null }> = await stack.api(
          'GET',
          `/api/v1/audit-log?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { key: stack.keys.viewer },
        );
        assert.equal(answer.status, 200);
        assert.ok(answer.json.items.length <= 7);
        paged.push(...answer.json.items);
        cursor = answer.json.nextCursor;
        if (!cursor) break;
      }
      assert.deepEqual(paged.map((e) => e.id), all.map((e) => e.id), 'the pages add up to the whole log, newest first');
      assert.equal(new Set(paged.map((e) => e.id)).size, paged.length, 'no entry twice');
      for (let i = 1; i < paged.length; i++) assert.ok(paged[i - 1]!.at >= paged[i]!.at, 'newest first');

      const forOne = await auditLog(stack, `appId=${created[0]}`);
      assert.deepEqual(forOne.map((e) => `${e.action}:${e.appId}`), [`merchant.authorized:${created[0]}`]);
    });
  });
}
