import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { dialectTargets } from '../store/dialects.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { authorizeThroughPage } from '../helpers/rest.ts';

const APP = 'ks0000000000000001';

for (const dialect of dialectTargets()) {
  describe(`onboarding on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('authorization link → sandbox page → merchant listed → operations → audit by push → release', async () => {
      stack = await startStack(dialect);
      await stack.ready();

      const link = await stack.api<{ url: string; expiresAt: number }>('POST', '/api/v1/authorizations', { key: stack.keys.operator, body: {} });
      assert.equal(link.status, 201);
      assert.ok(link.json.expiresAt > Date.now());

      // The merchant, in a browser: log in, pick the app, confirm.
      const back = await authorizeThroughPage(link.json.url, 'm000001', APP, [1, 2]);
      assert.equal(back.status, 200);
      assert.match(back.text, /授权成功/);

      const listed = await stack.api<{ items: { appId: string; status: string; permissions: number[] }[] }>('GET', '/api/v1/merchants', { key: stack.keys.viewer });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.json.items.map((m) => [m.appId, m.status, m.permissions]), [[APP, 'authorized', [1, 2]]]);

      const upload = await stack.api('POST', `/api/v1/merchants/${APP}/code`, { key: stack.keys.operator, body: { templateId: 1, userVersion: '1.0.0', userDesc: 'first', extJson: { shopId: 7 } } });
      assert.equal(upload.status, 200);
      const early = await stack.api<{ error: { code: string; details: { platformCodeName: string } } }>('POST', `/api/v1/merchants/${APP}/release`, { key: stack.keys.operator });
      assert.equal(early.status, 409);
      assert.equal(early.json.error.details.platformCodeName, 'NO_PASSED_AUDIT');

      assert.equal((await stack.api('POST', `/api/v1/merchants/${APP}/audit`, { key: stack.keys.operator, body: { note: 'please' } })).status, 200);
      let merchant: { lastAudit: { state: string } | null } | undefined;
      for (let i = 0; i < 100; i++) {
        merchant = (await stack.api<{ lastAudit: { state: string } | null }>('GET', `/api/v1/merchants/${APP}`)).json;
        if (merchant.lastAudit?.state === 'passed') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(merchant?.lastAudit?.state, 'passed', 'the audit result arrived by push');

      assert.equal((await stack.api('POST', `/api/v1/merchants/${APP}/release`, { key: stack.keys.operator })).status, 200);
      const versions = await stack.api<{ online: { userVersion: string } | null }>('GET', `/api/v1/merchants/${APP}/versions`, { key: stack.keys.viewer });
      assert.equal(versions.json.online?.userVersion, '1.0.0');

      const qr = await stack.api('GET', `/api/v1/merchants/${APP}/qrcode`, { key: stack.keys.viewer });
      assert.equal(qr.status, 200);
      assert.equal(qr.headers.get('content-type'), 'image/png');
      assert.deepEqual([...qr.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

      const log = await stack.api<{ items: { action: string; result: string }[] }>('GET', `/api/v1/audit-log?appId=${APP}`);
      assert.deepEqual(
        log.json.items.map((e) => `${e.action}:${e.result}`).reverse(),
        ['merchant.authorized:ok', 'code.upload:ok', 'release:error', 'audit.submit:ok', 'release:ok'],
      );
    });
  });
}
