/**
 * The probe as a library, against the real sandbox over HTTP, a double that differs from the table in
 * known ways, and a dumb fake for answers no platform should give; and the endpoint overrides (parsing,
 * and that they never change the shared table).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  credentialKeys,
  ENDPOINTS,
  EndpointOverrideError,
  expectedFields,
  KuaishouClient,
  MemoryTokenStore,
  parseEndpointOverrides,
  probePlatform,
  resolveEndpoints,
  TokenManager,
  UnexpectedResponseError,
  type KuaishouPlatform,
  type ProbeReport,
  type ProbeRow,
} from '../../src/kuaishou/index.ts';
import { FakePlatform } from '../helpers/fake-platform.ts';
import { ALTERNATE_VERSIONS_PATH, RENAMED, startPlatformDouble, type PlatformDouble } from '../helpers/platform-double.ts';
import { startSandbox, type SandboxHarness } from '../helpers/sandbox.ts';

const APP = 'ks0000000000000001';

function probeOf(platform: KuaishouPlatform, store: MemoryTokenStore, appId?: string): Promise<ProbeReport> {
  return probePlatform({ client: platform.client, tokens: platform.tokens, store }, appId === undefined ? {} : { appId });
}

function row(report: ProbeReport, id: string, variant: string | null = null): ProbeRow {
  const found = report.rows.find((candidate) => candidate.id === id && candidate.variant === variant);
  assert.ok(found, `row ${id}${variant ? ` ${variant}` : ''} in the report`);
  return found;
}

const outcomes = (report: ProbeReport): string[] => report.rows.map((r) => `${r.id}${r.variant ? `:${r.variant}` : ''} ${r.outcome}`);

describe('probe against the sandbox', () => {
  let sb: SandboxHarness;
  before(async () => {
    sb = await startSandbox();
  });
  after(() => sb.close());

  test('no ticket, no merchant: every row not tried, each with its reason; no call made', async () => {
    const store = new MemoryTokenStore();
    const platform = sb.platform({ store });
    const before = (await sb.calls()).total.calls;
    const report = await probeOf(platform, store);
    assert.deepEqual(report.rows.map((r) => r.id), ['T2', 'A1', 'A2', 'A6', 'A7', 'A11', 'A11', 'A11', 'A11', 'A12'], 'table order');
    assert.ok(report.rows.every((r) => r.outcome === 'not_tried'), outcomes(report).join(', '));
    assert.match(row(report, 'T2').details.reason ?? '', /no component ticket/);
    assert.match(row(report, 'A12').details.reason ?? '', /no component ticket/);
    assert.match(row(report, 'A7').details.reason ?? '', /no merchant given/);
    assert.equal(report.ok, true, 'nothing tried, nothing failed');
    assert.deepEqual(report.summary, { confirmed: 0, differs: 0, refused: 0, notTried: 10 });
    assert.equal((await sb.calls()).total.calls, before, 'the probe called nothing');
  });

  test('an authorized merchant with a development version: every row confirmed, and nothing changed', async () => {
    const store = new MemoryTokenStore();
    const platform = sb.platform({ store });
    await sb.ticket(platform);
    await sb.authorize(APP, [1, 2, 3, 4], platform);
    const [template] = await platform.listTemplates();
    assert.ok(template);
    await platform.uploadCode(APP, { templateId: template.templateId, userVersion: '1.0.0', userDesc: 'probe', ext: {} });
    const stateBefore = JSON.stringify((await sb.control('GET', '/state')).json);

    const report = await probeOf(platform, store, APP);
    assert.ok(report.rows.every((r) => r.outcome === 'confirmed'), outcomes(report).join(', '));
    assert.equal(report.rows.filter((r) => r.id === 'A11').length, 4, 'one A11 row per capability');
    assert.equal(report.ok, true);
    assert.equal(report.appId, APP);
    assert.deepEqual(report.overriddenRows, []);
    assert.equal(JSON.stringify((await sb.control('GET', '/state')).json), stateBefore, 'the platform state is unchanged');
    const second = await probeOf(platform, store, APP);
    assert.equal(JSON.stringify(second), JSON.stringify(report), 'a second probe gives the same report');
  });

  test('without a development version A6 is not tried; permission sets not granted: their rows not tried', async () => {
    const [appId] = await sb.newApps(1);
    assert.ok(appId);
    const store = new MemoryTokenStore();
    const platform = sb.platform({ store });
    await sb.ticket(platform);
    await sb.authorize(appId, [1], platform);
    const report = await probeOf(platform, store, appId);
    assert.equal(row(report, 'A7').outcome, 'confirmed');
    assert.equal(row(report, 'A6').outcome, 'not_tried');
    assert.match(row(report, 'A6').details.reason ?? '', /no development version/);
    for (const id of ['A1', 'A2']) assert.match(row(report, id).details.reason ?? '', /permission set 2 \(basic information\)/);
    assert.match(row(report, 'A11', 'liveMount').details.reason ?? '', /permission set 3/);
    assert.match(row(report, 'A11', 'phoneNumber').details.reason ?? '', /permission set 4/);

    const unknown = await probeOf(platform, store, 'ks9999999999999999');
    assert.match(row(unknown, 'A7').details.reason ?? '', /no authorization stored for ks9999999999999999/);
    assert.equal(row(unknown, 'T2').outcome, 'confirmed');
  });

  describe('through a double', () => {
    let double: PlatformDouble;
    before(async () => {
      double = await startPlatformDouble(sb.url);
    });
    after(() => double.close());

    test('a renamed field and a 404 path: exactly those rows differ, naming the field', async () => {
      const [appId] = await sb.newApps(1);
      assert.ok(appId);
      const store = new MemoryTokenStore();
      const platform = sb.platform({ store, baseUrl: double.url });
      await sb.ticket(platform);
      await sb.authorize(appId, [1, 2, 3, 4], platform);
      const [template] = await platform.listTemplates();
      assert.ok(template);
      await platform.uploadCode(appId, { templateId: template.templateId, userVersion: '1.0.0', userDesc: 'probe', ext: {} });
      const report = await probeOf(platform, store, appId);
      const differing = report.rows.filter((r) => r.outcome !== 'confirmed');
      assert.deepEqual(differing.map((r) => `${r.id} ${r.outcome}`), ['A2 differs', 'A7 differs'], outcomes(report).join(', '));

      const versions = row(report, 'A7');
      assert.equal(versions.outcome, 'differs');
      assert.equal(versions.details.httpStatus, 200);
      assert.deepEqual(versions.details.mismatchedFields, [RENAMED.from]);
      assert.ok(versions.details.seenFields?.includes(RENAMED.to), `seen: ${String(versions.details.seenFields)}`);
      assert.ok(!versions.details.seenFields?.includes(RENAMED.from));
      assert.ok(versions.details.expectedFields?.includes(RENAMED.from), `expected: ${String(versions.details.expectedFields)}`);
      assert.ok(versions.details.expectedFields?.includes('data.latest?'));

      const webview = row(report, 'A2');
      assert.equal(webview.outcome, 'differs');
      assert.equal(webview.details.httpStatus, 404);
      assert.match(webview.details.reason ?? '', /HTTP 404 on POST \/openapi\/mp\/auth\/app\/webview_domain/);
      // A7 did not decode, so A6 is tried without knowing whether there is a development version (there is).
      assert.equal(row(report, 'A6').outcome, 'confirmed');
      assert.equal(report.ok, false);
    });

    test("an override pointing A7 at the double's alternate path: confirmed and marked overridden", async () => {
      const store = new MemoryTokenStore();
      const platform = sb.platform({ store, baseUrl: double.url, endpoints: { A7: { path: ALTERNATE_VERSIONS_PATH } } });
      await sb.ticket(platform);
      await sb.authorize(APP, [1, 2, 3, 4], platform);
      const report = await probeOf(platform, store, APP);
      const versions = row(report, 'A7');
      assert.equal(versions.outcome, 'confirmed');
      assert.equal(versions.overridden, true);
      assert.equal(versions.path, ALTERNATE_VERSIONS_PATH);
      assert.deepEqual(report.overriddenRows, ['A7']);
      assert.ok(report.rows.filter((r) => r.id !== 'A7').every((r) => !r.overridden));
      assert.ok(double.paths.includes(ALTERNATE_VERSIONS_PATH));
      assert.equal(ENDPOINTS.getVersions.path, '/openapi/mp/auth/app/package/versions', 'the shared table is unchanged');
    });
  });
});

describe('probe against answers no platform should give', () => {
  let fake: FakePlatform;
  before(async () => {
    fake = await FakePlatform.start();
  });
  after(() => fake.close());

  test('HTML, a missing result, a renamed list, an error code: names and codes, never values', async () => {
    const secret = 'component-secret-for-the-probe';
    const store = new MemoryTokenStore();
    const client = new KuaishouClient({ componentAppId: 'ks_c', componentAppSecret: secret, baseUrl: fake.baseUrl, retry: { retries: 0 } });
    const tokens = new TokenManager({ client, store, ticketRequestIntervalMs: 0 });
    await tokens.storeTicket('ticket-value-0001', 600);
    await store.compareAndSet(credentialKeys.authorizer('ks_c', 'ks1'), undefined, { value: 'authorizer-token-0001', expiresAt: Date.now() + 3_600_000, refreshToken: 'refresh-0001', refreshExpiresAt: Date.now() + 86_400_000, meta: { permissions: [1, 2, 3, 4] } });
    fake.on(ENDPOINTS.getComponentAccessToken.path, { json: { code: 0, componentAccessToken: 'new-token-value-0001', expiresIn: 7200 } });
    await store.compareAndSet(credentialKeys.componentToken('ks_c'), undefined, { value: 'component-token-0001', expiresAt: Date.now() + 3_600_000 });
    fake.on(ENDPOINTS.listTemplates.path, { json: { result: 1, template_list: [{ template_id: 1 }] } });
    fake.on(ENDPOINTS.serverDomains.path, { status: 200, contentType: 'text/html', bytes: Buffer.from('<html>gateway</html>') });
    fake.on(ENDPOINTS.webviewDomains.path, { json: { result: 403001, error_msg: 'no permission; access_token=authorizer-token-0001' } });
    fake.on(ENDPOINTS.getVersions.path, { json: { result: 1, data: { latest: { user_version: '1.0.0', template_id: 'x', create_time: 1 } } } });
    fake.on(ENDPOINTS.getCapabilityStatus.path, { status: 405, json: { message: 'method not allowed' } });
    fake.on(ENDPOINTS.getQrCode.path, { json: { result: 1, qrcode_url: 'https://example.com/qr.png' } });

    const report = await probePlatform({ client, tokens, store }, { appId: 'ks1' });
    const text = JSON.stringify(report);
    for (const value of [secret, 'ticket-value-0001', 'new-token-value-0001', 'component-token-0001', 'authorizer-token-0001', 'refresh-0001', 'example.com/qr']) {
      assert.ok(!text.includes(value), `${value} is not in the report`);
    }

    const t2 = row(report, 'T2');
    assert.equal(t2.outcome, 'differs');
    assert.deepEqual(t2.details.mismatchedFields, ['result']);
    assert.deepEqual(t2.details.seenFields, ['code', 'componentAccessToken', 'expiresIn']);

    const templates = row(report, 'A12');
    assert.equal(templates.outcome, 'differs', 'an absent list decodes as empty, and is caught');
    assert.deepEqual(templates.details.mismatchedFields, ['templates']);
    assert.ok(templates.details.seenFields?.includes('template_list[].template_id'));

    assert.match(row(report, 'A1').details.reason ?? '', /HTTP 200 text\/html, not a JSON object/);
    const refused = row(report, 'A2');
    assert.equal(refused.outcome, 'refused');
    assert.equal(refused.details.code, 403001);
    assert.equal(refused.details.codeName, 'PERMISSION_DENIED');
    assert.match(refused.details.message ?? '', /access_token=\[REDACTED\]/);

    const versions = row(report, 'A7');
    assert.deepEqual(versions.details.mismatchedFields, ['data.latest.template_id'], 'the decoder names the whole path');
    assert.match(row(report, 'A11', 'shortVideoMount').details.reason ?? '', /HTTP 405 .* for this method/);
    assert.match(row(report, 'A6').details.reason ?? '', /where the table expects image bytes/);
    assert.deepEqual(row(report, 'A6').details.seenFields, ['qrcode_url', 'result']);
  });
});

describe('endpoint overrides', () => {
  test('by row id or operation name; path and method only; the shared table untouched', () => {
    const overrides = parseEndpointOverrides({ A7: { path: '/v2/versions' }, getCapabilityStatus: { method: 'POST' } });
    assert.deepEqual(overrides, { getVersions: { path: '/v2/versions' }, getCapabilityStatus: { method: 'POST' } });
    const table = resolveEndpoints(overrides);
    assert.equal(table.getVersions.path, '/v2/versions');
    assert.equal(table.getCapabilityStatus.method, 'POST');
    assert.equal(ENDPOINTS.getVersions.path, '/openapi/mp/auth/app/package/versions');
    assert.equal(ENDPOINTS.getCapabilityStatus.method, 'GET');
    assert.equal(resolveEndpoints({}), ENDPOINTS);
  });

  const bad: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [{ A99: { path: '/x' } }, /^A99: unknown row/],
    [{ T7: { path: '/x' } }, /^T7: unknown row \(T7, the authorization page, is not overridable\)/],
    [{ A7: { path: '/x', decode: 'y' } }, /^A7: only "path" and "method" can be overridden, not "decode"/],
    [{ A7: { method: 'PUT' } }, /^A7: "method" must be "GET" or "POST"/],
    [{ A7: { method: 'get' } }, /^A7: "method" must be "GET" or "POST"/],
    [{ A1: { method: 'GET' } }, /^A1: sends a JSON body/],
    [{ A7: { path: 'openapi/x' } }, /^A7: "path" must start with "\/"/],
    [{ A7: { path: '/x?y=1' } }, /^A7: "path" must not contain "\?" or "#"/],
    [{ A7: { path: '/x#y' } }, /^A7: "path" must not contain "\?" or "#"/],
    [{ A7: { path: '/x y' } }, /^A7: "path" must not contain whitespace/],
    [{ A7: { path: '/x/../y' } }, /^A7: "path" must not contain "\.\."/],
    [{ A7: { path: 7 } }, /^A7: "path" must be a string/],
    [{ A7: {} }, /^A7: gives neither "path" nor "method"/],
    [{ A7: '/x' }, /^A7: must be an object/],
    [{ A7: { path: '/x' }, getVersions: { path: '/y' } }, /^getVersions: names the same row as "A7"/],
  ];
  for (const [document, message] of bad) {
    test(`refused: ${JSON.stringify(document)}`, () => {
      assert.throws(() => parseEndpointOverrides(document), (error: unknown) => error instanceof EndpointOverrideError && message.test(error.message));
    });
  }

  test('a client given bad overrides refuses to be built', () => {
    assert.throws(() => new KuaishouClient({ componentAppId: 'a', componentAppSecret: 'b', endpoints: { getVersions: { path: 'nope' } } }), EndpointOverrideError);
  });

  test("expected fields come from the row's decoder", () => {
    const names = expectedFields(ENDPOINTS.listTemplates, 'listTemplates').map((f) => `${f.path}${f.optional ? '?' : ''}`);
    assert.deepEqual(names, ['result', 'templates', 'templates[].create_time', 'templates[].template_id', 'templates[].user_desc?', 'templates[].user_version']);
    assert.deepEqual(expectedFields(ENDPOINTS.getQrCode, 'getQrCode'), []);
    assert.ok(new UnexpectedResponseError('x', { operation: 'y', field: 'data' }).field === 'data');
  });
});
