/**
 * POST /api/v1/platform/probe on the real service, on each dialect: against the sandbox (every row
 * confirmed, stable JSON, audit-logged, no secret in the report or the logs), against a double that
 * renames a field of A7 and answers 404 on A2, and with KS_ENDPOINTS_FILE pointing A7 at the double's
 * alternate path; bad input in the API's error shape; without a ticket or a merchant, rows not tried.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentialKeys, type ProbeReport, type ProbeRow } from '../../src/kuaishou/index.ts';
import { ALTERNATE_VERSIONS_PATH, RENAMED, startPlatformDouble, type PlatformDouble } from '../helpers/platform-double.ts';
import { assertError, auditLog, authorizeMerchant, revokeMerchant } from '../helpers/rest.ts';
import { startSandbox, type SandboxHarness } from '../helpers/sandbox.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets, type DialectTarget } from '../store/dialects.ts';

const APP = 'ks0000000000000001';
const PROBE = '/api/v1/platform/probe';

function row(report: ProbeReport, id: string, variant: string | null = null): ProbeRow {
  const found = report.rows.find((candidate) => candidate.id === id && candidate.variant === variant);
  assert.ok(found, `row ${id} in the report`);
  return found;
}

const outcomes = (report: ProbeReport): string => report.rows.map((r) => `${r.id}${r.variant ? `:${r.variant}` : ''} ${r.outcome}`).join(', ');

/** Authorizes APP and gives it a development version (so A6 has a QR code to show). */
async function merchantWithDevVersion(stack: Stack): Promise<void> {
  await authorizeMerchant(stack, APP);
  const upload = await stack.api('POST', `/api/v1/merchants/${APP}/code`, { body: { templateId: 1, userVersion: '1.0.0', userDesc: 'probe' } });
  assert.equal(upload.status, 200, JSON.stringify(upload.json));
}

/** A stack whose KS_BASE_URL is the double (in front of `sandbox`), its push URLs registered by hand. */
async function stackBehindDouble(dialect: DialectTarget, sandbox: SandboxHarness, double: PlatformDouble, env: Record<string, string> = {}): Promise<Stack> {
  const stack = await startStack(dialect, { sharedSandbox: sandbox, env: { KS_BASE_URL: double.url, ...env } });
  const registered = await sandbox.control('PUT', '/component', { authEventUrl: `${stack.url}/callbacks/auth`, messageUrl: `${stack.url}/callbacks/events` });
  assert.equal(registered.status, 200);
  await stack.ready();
  return stack;
}

for (const dialect of dialectTargets()) {
  describe(`platform probe on ${dialect.name}`, { skip: dialect.skip, timeout: 90_000 }, () => {
    after(() => dialect.cleanup());

    describe('against the sandbox', () => {
      let stack: Stack;
      before(async () => {
        stack = await startStack(dialect);
        await stack.ready();
        await merchantWithDevVersion(stack);
      });
      after(() => stack.close());

      test('every row confirmed; the same JSON twice; audit-logged; no secret in the report or the logs', async () => {
        const first = await stack.api<ProbeReport>('POST', PROBE, { body: { appId: APP } });
        assert.equal(first.status, 200, first.bytes.toString());
        const report = first.json;
        assert.ok(report.rows.every((r) => r.outcome === 'confirmed'), outcomes(report));
        assert.deepEqual(report.rows.map((r) => r.id), ['T2', 'A1', 'A2', 'A6', 'A7', 'A11', 'A11', 'A11', 'A11', 'A12']);
        assert.deepEqual(report.summary, { confirmed: 10, differs: 0, refused: 0, notTried: 0 });
        assert.equal(report.ok, true);
        assert.deepEqual(Object.keys(report), ['baseUrl', 'componentAppId', 'appId', 'overriddenRows', 'ok', 'summary', 'rows']);
        assert.deepEqual(Object.keys(report.rows[0] ?? {}), ['id', 'operation', 'variant', 'method', 'path', 'source', 'overridden', 'outcome', 'details']);

        const second = await stack.api('POST', PROBE, { body: { appId: APP } });
        assert.equal(second.bytes.toString(), first.bytes.toString(), 'two probes, one JSON text');

        const entries = await auditLog(stack, 'action=platform.probe');
        assert.equal(entries.length, 2);
        assert.equal(entries[0]?.appId, APP);
        assert.equal(entries[0]?.result, 'ok');
        assert.deepEqual(entries[0]?.summary, { confirmed: 10, differs: 0, refused: 0, notTried: 0, ok: true, overriddenRows: [] });

        const state = stack.sandbox.sandbox.runtime.state;
        const pair = state.data.credentials.livePairs[APP];
        assert.ok(pair, 'the sandbox holds the merchant pair');
        const secrets = {
          componentSecret: state.component.componentAppSecret,
          messageKey: state.component.messageKey,
          messageToken: state.component.messageToken,
          accessToken: pair.accessToken,
          refreshToken: pair.refreshToken,
          ticket: Object.keys(state.data.credentials.tickets).at(-1) ?? 'none',
          componentTokens: Object.keys(state.data.credentials.componentTokens).join('\n'),
        };
        const logs = stack.logs.join('\n');
        assert.match(logs, /platform probe done/);
        for (const [name, value] of Object.entries(secrets)) {
          for (const one of value.split('\n').filter((v) => v.length >= 6)) {
            assert.ok(!first.bytes.toString().includes(one), `${name} is not in the report`);
            assert.ok(!logs.includes(one), `${name} is not in the logs`);
          }
        }
      });

      test('no merchant given: its rows not tried, with the reason', async () => {
        for (const body of [undefined, {}]) {
          const answer = await stack.api<ProbeReport>('POST', PROBE, body === undefined ? {} : { body });
          assert.equal(answer.status, 200);
          assert.equal(answer.json.appId, null);
          assert.equal(row(answer.json, 'T2').outcome, 'confirmed');
          assert.equal(row(answer.json, 'A12').outcome, 'confirmed');
          for (const r of answer.json.rows.filter((r) => r.id !== 'T2' && r.id !== 'A12')) {
            assert.equal(r.outcome, 'not_tried');
            assert.match(r.details.reason ?? '', /no merchant given/);
          }
          assert.equal(answer.json.ok, true);
        }
      });

      test('bad input: unknown merchant 404, bad app id 400, other fields 400, not admin 403; none audit-logged', async () => {
        const logged = (await auditLog(stack)).length;
        assertError(await stack.api('POST', PROBE, { body: { appId: 'ks_unknown_1' } }), 404, 'merchant_not_found');
        assertError(await stack.api('POST', PROBE, { body: { appId: 'ks 1' } }), 400, 'invalid_request');
        assertError(await stack.api('POST', PROBE, { body: { appId: APP, dryRun: true } }), 400, 'invalid_request');
        assertError(await stack.api('POST', PROBE, { body: 'ks1' }), 400, 'invalid_request');
        assertError(await stack.api('POST', PROBE, { key: stack.keys.operator, body: {} }), 403, 'forbidden');
        assertError(await stack.api('POST', PROBE, { key: null, body: {} }), 401, 'unauthenticated');
        assert.equal((await auditLog(stack)).length, logged, 'refused input changes nothing');
      });

      test('a merchant that revoked its authorization is probed: its rows not tried, with the reason', async () => {
        const revoked = 'ks0000000000000002';
        await authorizeMerchant(stack, revoked);
        await revokeMerchant(stack, revoked);
        const answer = await stack.api<ProbeReport>('POST', PROBE, { body: { appId: revoked } });
        assert.equal(answer.status, 200, answer.bytes.toString());
        assert.equal(row(answer.json, 'T2').outcome, 'confirmed');
        for (const r of answer.json.rows.filter((r) => r.id !== 'T2' && r.id !== 'A12')) {
          assert.equal(r.outcome, 'not_tried');
          assert.match(r.details.reason ?? '', /no authorization stored for ks0000000000000002/);
        }
      });

      test('without a ticket (nor a component token): T2 and A12 not tried, the merchant rows still probed', async () => {
        const { tokenStore } = stack.service.store;
        const componentAppId = stack.sandbox.sandbox.runtime.state.component.componentAppId;
        for (const key of [credentialKeys.ticket(componentAppId), credentialKeys.componentToken(componentAppId)]) {
          const current = await tokenStore.get(key);
          if (current) assert.ok(await tokenStore.compareAndSet(key, current.value, undefined));
        }
        const answer = await stack.api<ProbeReport>('POST', PROBE, { body: { appId: APP } });
        assert.equal(answer.status, 200);
        for (const id of ['T2', 'A12']) {
          assert.equal(row(answer.json, id).outcome, 'not_tried', id);
          assert.match(row(answer.json, id).details.reason ?? '', /no component ticket/);
        }
        assert.equal(row(answer.json, 'A7').outcome, 'confirmed', 'the merchant token is still fresh');
      });
    });

    describe('against a double', () => {
      let sandbox: SandboxHarness;
      let double: PlatformDouble;
      let dir: string;
      before(async () => {
        sandbox = await startSandbox();
        double = await startPlatformDouble(sandbox.url);
        dir = mkdtempSync(join(tmpdir(), 'ks-isv-endpoints-'));
      });
      after(async () => {
        await double.close();
        await sandbox.close();
      });

      test('a renamed A7 field and a 404 on A2: exactly those rows differ, naming the field', async () => {
        const stack = await stackBehindDouble(dialect, sandbox, double);
        try {
          await merchantWithDevVersion(stack);
          const answer = await stack.api<ProbeReport>('POST', PROBE, { body: { appId: APP } });
          assert.equal(answer.status, 200);
          const report = answer.json;
          assert.deepEqual(report.rows.filter((r) => r.outcome !== 'confirmed').map((r) => `${r.id} ${r.outcome}`), ['A2 differs', 'A7 differs'], outcomes(report));
          const versions = row(report, 'A7');
          assert.deepEqual(versions.details.mismatchedFields, [RENAMED.from]);
          assert.ok(versions.details.seenFields?.includes(RENAMED.to));
          assert.ok(versions.details.expectedFields?.includes(RENAMED.from));
          assert.equal(row(report, 'A2').details.httpStatus, 404);
          assert.equal(report.ok, false);
          assert.deepEqual(report.overriddenRows, []);
        } finally {
          await stack.close();
        }
      });

      test("KS_ENDPOINTS_FILE pointing A7 at the double's alternate path: A7 confirmed and marked overridden", async () => {
        const file = join(dir, 'endpoints.json');
        writeFileSync(file, JSON.stringify({ A7: { path: ALTERNATE_VERSIONS_PATH, method: 'GET' } }));
        const stack = await stackBehindDouble(dialect, sandbox, double, { KS_ENDPOINTS_FILE: file });
        try {
          await merchantWithDevVersion(stack);
          const answer = await stack.api<ProbeReport>('POST', PROBE, { body: { appId: APP } });
          const versions = row(answer.json, 'A7');
          assert.equal(versions.outcome, 'confirmed');
          assert.equal(versions.overridden, true);
          assert.equal(versions.path, ALTERNATE_VERSIONS_PATH);
          assert.deepEqual(answer.json.overriddenRows, ['A7']);
          assert.deepEqual(answer.json.rows.filter((r) => r.outcome !== 'confirmed').map((r) => r.id), ['A2']);
          // The service's own calls use the override too: the merchant's versions through the REST API.
          const versionsAnswer = await stack.api('GET', `/api/v1/merchants/${APP}/versions`);
          assert.equal(versionsAnswer.status, 200, JSON.stringify(versionsAnswer.json));
          assert.match(stack.logs.join('\n'), /endpoint rows overridden by KS_ENDPOINTS_FILE/);
        } finally {
          await stack.close();
        }
      });
    });
  });
}
