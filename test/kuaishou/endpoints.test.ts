/**
 * Every row of the wire contract (docs/kuaishou-open-platform.md, T1–T7 and A1–A12), exercised through the
 * public `KuaishouClient` against a recording loopback server: exactly one request with exactly the
 * contract's method, path, query and JSON body goes out, and a contract-shaped answer comes back as our
 * camelCase result. The expected wire names below are written out from the contract on purpose (not read
 * from `endpoints.ts`), so a typo in the endpoint table fails here.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CAPABILITIES,
  KuaishouApiError,
  KuaishouClient,
  KuaishouPlatform,
  MemoryTokenStore,
  UnexpectedResponseError,
  type Capability,
  type CapabilityStatus,
} from '../../src/kuaishou/index.ts';
import { FakePlatform, type FakeAnswer, type RecordedRequest } from '../helpers/fake-platform.ts';

const COMPONENT_APP_ID = 'ks_component_0001';
const COMPONENT_APP_SECRET = 'component-secret-0001';
const COMPONENT_TOKEN = 'component-access-token-0001';
const AUTHORIZER_TOKEN = 'authorizer-access-token-0001';

/** Query of calls signed with the app secret (T1, T2). */
function secretQuery(extra: Record<string, string> = {}): Record<string, string> {
  return { component_app_id: COMPONENT_APP_ID, component_app_secret: COMPONENT_APP_SECRET, ...extra };
}

/** Query of calls carrying the component access token (T3–T6, A12). */
function componentQuery(extra: Record<string, string> = {}): Record<string, string> {
  return { component_app_id: COMPONENT_APP_ID, component_access_token: COMPONENT_TOKEN, ...extra };
}

/** Query of calls on behalf of a merchant (A1–A11). */
function authorizerQuery(extra: Record<string, string> = {}): Record<string, string> {
  return { component_app_id: COMPONENT_APP_ID, authorizer_access_token: AUTHORIZER_TOKEN, ...extra };
}

/** A success answer under `/mp/tp/oauth/*` (camelCase). */
function oauthOk(fields: Record<string, unknown> = {}): FakeAnswer {
  return { json: { result: 1, errorMsg: '', ...fields } };
}

/** A success answer under `/openapi/*` (snake_case). */
function openapiOk(fields: Record<string, unknown> = {}): FakeAnswer {
  return { json: { result: 1, error_msg: '', ...fields } };
}

interface ExpectedRequest {
  method: 'GET' | 'POST';
  path: string;
  query: Record<string, string>;
  /** Required for POST (the whole JSON body); GETs must carry none. */
  body?: unknown;
}

function onlyRequest(fake: FakePlatform): RecordedRequest {
  assert.equal(
    fake.requests.length,
    1,
    `expected exactly one request, got ${fake.requests.length}: ${fake.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`,
  );
  const [request] = fake.requests;
  if (!request) throw new Error('unreachable');
  return request;
}

function assertSentOnce(fake: FakePlatform, expected: ExpectedRequest): RecordedRequest {
  const request = onlyRequest(fake);
  assert.equal(request.method, expected.method);
  assert.equal(request.path, expected.path);
  assert.deepEqual(request.query, expected.query);
  if (expected.method === 'GET') {
    assert.equal(request.body, undefined, 'a GET carries no body');
  } else {
    assert.match(String(request.headers['content-type']), /^application\/json/);
    assert.deepEqual(request.body, expected.body);
  }
  return request;
}

/** A real 1×1 PNG: signature, IHDR, IDAT, IEND. */
const PNG_BYTES = new Uint8Array(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
);
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const AUTHORIZE_PERMISSION_WIRE = [
  { id: 1, category: 'development', description: '开发管理' },
  { id: 2, category: 'basicInfo', description: '基础信息管理' },
];
const AUTHORIZE_PERMISSION = [
  { id: 1, category: 'development', description: '开发管理' },
  { id: 2, category: 'basicInfo', description: '基础信息管理' },
];

describe('KuaishouClient against the wire contract', () => {
  let fake: FakePlatform;
  let client: KuaishouClient;

  before(async () => {
    fake = await FakePlatform.start();
    client = new KuaishouClient({
      componentAppId: COMPONENT_APP_ID,
      componentAppSecret: COMPONENT_APP_SECRET,
      baseUrl: fake.baseUrl,
      retry: { retries: 0 },
    });
  });

  after(async () => {
    await fake.close();
  });

  beforeEach(() => {
    fake.reset();
  });

  // ---- T1–T7: tokens and authorization ----------------------------------------------------------------

  describe('T1 start_push_ticket', () => {
    it('sends GET with the app secret and maps success to {}', async () => {
      fake.on('/mp/tp/oauth/start_push_ticket', oauthOk());
      const result = await client.startPushTicket();
      assertSentOnce(fake, { method: 'GET', path: '/mp/tp/oauth/start_push_ticket', query: secretQuery() });
      assert.deepEqual(result, {});
    });
  });

  describe('T2 access_token', () => {
    it('sends the ticket with the app secret and maps componentAccessToken/expiresIn', async () => {
      fake.on('/mp/tp/oauth/access_token', oauthOk({ componentAccessToken: 'cat-from-t2', expiresIn: 7200 }));
      const result = await client.getComponentAccessToken('ticket-0001');
      assertSentOnce(fake, {
        method: 'GET',
        path: '/mp/tp/oauth/access_token',
        query: secretQuery({ component_verify_ticket: 'ticket-0001' }),
      });
      assert.deepEqual(result, { accessToken: 'cat-from-t2', expiresInS: 7200 });
    });

    it('a success answer without componentAccessToken is an UnexpectedResponseError naming the field', async () => {
      fake.on('/mp/tp/oauth/access_token', oauthOk({ expiresIn: 7200 }));
      await assert.rejects(client.getComponentAccessToken('ticket-0001'), (error: unknown) => {
        assert.ok(error instanceof UnexpectedResponseError, `got ${String(error)}`);
        assert.match(error.message, /componentAccessToken/);
        assert.equal(error.operation, 'getComponentAccessToken');
        return true;
      });
      assert.equal(fake.count('/mp/tp/oauth/access_token'), 1);
    });
  });

  describe('T3 pre_auth_code', () => {
    it('sends the component token and maps preAuthCode/expiresIn', async () => {
      fake.on('/mp/tp/oauth/pre_auth_code', oauthOk({ preAuthCode: 'pac-0001', expiresIn: 600 }));
      const result = await client.createPreAuthCode(COMPONENT_TOKEN);
      assertSentOnce(fake, { method: 'GET', path: '/mp/tp/oauth/pre_auth_code', query: componentQuery() });
      assert.deepEqual(result, { preAuthCode: 'pac-0001', expiresInS: 600 });
    });

    it('an error under /mp/tp/oauth reads errorMsg (not error_msg)', async () => {
      fake.on('/mp/tp/oauth/pre_auth_code', {
        json: { result: 100200102, errorMsg: 'oauth style message', error_msg: 'wrong style message' },
      });
      await assert.rejects(client.createPreAuthCode(COMPONENT_TOKEN), (error: unknown) => {
        assert.ok(error instanceof KuaishouApiError, `got ${String(error)}`);
        assert.equal(error.code, 100200102);
        assert.equal(error.codeName, 'TOKEN_INVALID');
        assert.equal(error.kind, 'tokenInvalid');
        assert.equal(error.platformMessage, 'oauth style message');
        return true;
      });
    });
  });

  describe('T4 authorizer_access_token', () => {
    it('sends the authorization code and maps the token pair and permissions', async () => {
      fake.on(
        '/mp/tp/oauth/authorizer_access_token',
        oauthOk({
          authorizerAccessToken: 'aat-from-t4',
          expiresIn: 7200,
          authorizerRefreshToken: 'art-from-t4',
          refreshExpiresIn: 2592000,
          authorizerAppId: 'ks_merchant_0001',
          authorizePermission: AUTHORIZE_PERMISSION_WIRE,
        }),
      );
      const result = await client.exchangeAuthorizationCode(COMPONENT_TOKEN, 'auth-code-0001');
      assertSentOnce(fake, {
        method: 'GET',
        path: '/mp/tp/oauth/authorizer_access_token',
        query: componentQuery({ authorization_code: 'auth-code-0001' }),
      });
      assert.deepEqual(result, {
        appId: 'ks_merchant_0001',
        accessToken: 'aat-from-t4',
        expiresInS: 7200,
        refreshToken: 'art-from-t4',
        refreshExpiresInS: 2592000,
        permissions: AUTHORIZE_PERMISSION,
      });
    });
  });

  describe('T5 re_authorization_code', () => {
    it('sends authorized_app_id and maps authorizationCode/expiresIn', async () => {
      fake.on('/mp/tp/oauth/re_authorization_code', oauthOk({ authorizationCode: 'recovered-code', expiresIn: 3600 }));
      const result = await client.recoverAuthorizationCode(COMPONENT_TOKEN, 'ks_merchant_0001');
      assertSentOnce(fake, {
        method: 'GET',
        path: '/mp/tp/oauth/re_authorization_code',
        query: componentQuery({ authorized_app_id: 'ks_merchant_0001' }),
      });
      assert.deepEqual(result, { authorizationCode: 'recovered-code', expiresInS: 3600 });
    });
  });

  describe('T6 refresh_authorizer_access_token', () => {
    it('sends authorizer_app_id and the refresh token and maps the new pair', async () => {
      fake.on(
        '/mp/tp/oauth/refresh_authorizer_access_token',
        oauthOk({
          authorizerAccessToken: 'aat-from-t6',
          expiresIn: 7200,
          authorizerRefreshToken: 'art-from-t6',
          refreshExpiresIn: 2592000,
          authorizerAppId: 'ks_merchant_0001',
          authorizePermission: [{ id: 1, category: 'development', description: '开发管理' }],
        }),
      );
      const result = await client.refreshAuthorizerToken(COMPONENT_TOKEN, {
        appId: 'ks_merchant_0001',
        refreshToken: 'art-old',
      });
      assertSentOnce(fake, {
        method: 'GET',
        path: '/mp/tp/oauth/refresh_authorizer_access_token',
        query: componentQuery({ authorizer_app_id: 'ks_merchant_0001', authorizer_refresh_token: 'art-old' }),
      });
      assert.deepEqual(result, {
        appId: 'ks_merchant_0001',
        accessToken: 'aat-from-t6',
        expiresInS: 7200,
        refreshToken: 'art-from-t6',
        refreshExpiresInS: 2592000,
        permissions: [{ id: 1, category: 'development', description: '开发管理' }],
      });
    });
  });

  describe('T7 authorization page', () => {
    it('builds <base>/mp/tp/authorize with component_app_id, pre_auth_code and redirect_uri', () => {
      const redirectUri = 'https://isv.example.com/kuaishou/authorized?tenant=a&x=1 2';
      const url = new URL(client.authorizationPageUrl({ preAuthCode: 'pac-0001', redirectUri }));
      assert.equal(`${url.origin}${url.pathname}`, `${fake.baseUrl}/mp/tp/authorize`);
      assert.deepEqual(Object.fromEntries(url.searchParams), {
        component_app_id: COMPONENT_APP_ID,
        pre_auth_code: 'pac-0001',
        redirect_uri: redirectUri,
      });
      assert.equal(url.searchParams.getAll('redirect_uri').length, 1);
      assert.equal(fake.requests.length, 0, 'building the URL sends nothing');
    });

    it('does not double the slash when the base URL ends with one', () => {
      const slashed = new KuaishouClient({
        componentAppId: COMPONENT_APP_ID,
        componentAppSecret: COMPONENT_APP_SECRET,
        baseUrl: `${fake.baseUrl}/`,
      });
      const url = new URL(slashed.authorizationPageUrl({ preAuthCode: 'p', redirectUri: 'https://r.example/cb' }));
      assert.equal(url.pathname, '/mp/tp/authorize');
    });
  });

  // ---- A1–A12: on behalf of a merchant ----------------------------------------------------------------

  describe('A1 server_domain', () => {
    const path = '/openapi/mp/auth/app/server_domain';
    const wireLists = {
      request: ['https://api.shop.example.com'],
      socket: ['wss://ws.shop.example.com'],
      upload_file: ['https://up.shop.example.com'],
      download_file: ['https://dl.shop.example.com'],
      udp: ['udp://udp.shop.example.com'],
    };
    const ourLists = {
      request: ['https://api.shop.example.com'],
      socket: ['wss://ws.shop.example.com'],
      uploadFile: ['https://up.shop.example.com'],
      downloadFile: ['https://dl.shop.example.com'],
      udp: ['udp://udp.shop.example.com'],
    };

    it('get sends only the action and maps the five lists', async () => {
      fake.on(path, openapiOk(wireLists));
      const result = await client.serverDomains(AUTHORIZER_TOKEN, { action: 'get' });
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: { action: 'get' } });
      assert.deepEqual(result, ourLists);
    });

    it('get drops lists a loosely typed caller passes along', async () => {
      fake.on(path, openapiOk(wireLists));
      const change = { action: 'get' as const, request: ['https://api.shop.example.com'], udp: ['udp://u.shop.example.com'] };
      await client.serverDomains(AUTHORIZER_TOKEN, change);
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: { action: 'get' } });
    });

    it('add sends only the lists given, with upload_file/download_file wire names', async () => {
      fake.on(path, openapiOk(wireLists));
      const result = await client.serverDomains(AUTHORIZER_TOKEN, {
        action: 'add',
        request: ['https://api.shop.example.com'],
        uploadFile: ['https://up.shop.example.com'],
        downloadFile: ['https://dl.shop.example.com'],
      });
      assertSentOnce(fake, {
        method: 'POST',
        path,
        query: authorizerQuery(),
        body: {
          action: 'add',
          request: ['https://api.shop.example.com'],
          upload_file: ['https://up.shop.example.com'],
          download_file: ['https://dl.shop.example.com'],
        },
      });
      assert.deepEqual(result, ourLists);
    });

    it('set sends all five lists', async () => {
      fake.on(path, openapiOk(wireLists));
      const result = await client.serverDomains(AUTHORIZER_TOKEN, { action: 'set', ...ourLists });
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: { action: 'set', ...wireLists } });
      assert.deepEqual(result, ourLists);
    });

    it('delete sends the one list given; lists missing from the answer map to []', async () => {
      fake.on(path, openapiOk({ request: ['https://api.shop.example.com'], socket: [] }));
      const result = await client.serverDomains(AUTHORIZER_TOKEN, {
        action: 'delete',
        socket: ['wss://ws.shop.example.com'],
      });
      assertSentOnce(fake, {
        method: 'POST',
        path,
        query: authorizerQuery(),
        body: { action: 'delete', socket: ['wss://ws.shop.example.com'] },
      });
      assert.deepEqual(result, {
        request: ['https://api.shop.example.com'],
        socket: [],
        uploadFile: [],
        downloadFile: [],
        udp: [],
      });
    });

    it('an error under /openapi reads error_msg (not errorMsg)', async () => {
      fake.on(path, {
        json: { result: 403106, error_msg: 'openapi style message', errorMsg: 'wrong style message' },
      });
      await assert.rejects(
        client.serverDomains(AUTHORIZER_TOKEN, { action: 'delete', request: ['https://gone.shop.example.com'] }),
        (error: unknown) => {
          assert.ok(error instanceof KuaishouApiError, `got ${String(error)}`);
          assert.equal(error.code, 403106);
          assert.equal(error.codeName, 'DOMAIN_NOT_FOUND');
          assert.equal(error.kind, 'business');
          assert.equal(error.platformMessage, 'openapi style message');
          return true;
        },
      );
      assert.equal(fake.count(path), 1);
    });
  });

  describe('A2 webview_domain', () => {
    const path = '/openapi/mp/auth/app/webview_domain';

    it('get sends only the action and maps webview_domain', async () => {
      fake.on(path, openapiOk({ webview_domain: ['https://h5.shop.example.com'] }));
      const result = await client.webviewDomains(AUTHORIZER_TOKEN, { action: 'get' });
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: { action: 'get' } });
      assert.deepEqual(result, ['https://h5.shop.example.com']);
    });

    for (const action of ['set', 'add', 'delete'] as const) {
      it(`${action} sends webview_domain`, async () => {
        fake.on(path, openapiOk({ webview_domain: ['https://h5.shop.example.com', 'https://m.shop.example.com'] }));
        const result = await client.webviewDomains(AUTHORIZER_TOKEN, {
          action,
          domains: ['https://m.shop.example.com'],
        });
        assertSentOnce(fake, {
          method: 'POST',
          path,
          query: authorizerQuery(),
          body: { action, webview_domain: ['https://m.shop.example.com'] },
        });
        assert.deepEqual(result, ['https://h5.shop.example.com', 'https://m.shop.example.com']);
      });
    }
  });

  describe('A3 package/upload', () => {
    const path = '/openapi/mp/auth/app/package/upload';

    it('serialises an ext_json object to JSON text', async () => {
      fake.on(path, openapiOk());
      const extJson = { extAppid: 'ks_merchant_0001', ext: { shopName: '小店', theme: { color: '#ff5000' } } };
      const result = await client.uploadCode(AUTHORIZER_TOKEN, {
        templateId: 42,
        userVersion: '1.2.3',
        userDesc: 'spring sale',
        extJson,
      });
      const request = assertSentOnce(fake, {
        method: 'POST',
        path,
        query: authorizerQuery(),
        body: { template_id: 42, user_version: '1.2.3', user_desc: 'spring sale', ext_json: JSON.stringify(extJson) },
      });
      const body = request.body as { ext_json: unknown };
      assert.equal(typeof body.ext_json, 'string');
      assert.deepEqual(JSON.parse(body.ext_json as string), extJson);
      assert.deepEqual(result, {});
    });

    it('passes an ext_json string through unchanged', async () => {
      fake.on(path, openapiOk());
      const extJson = '{"extAppid":"ks_merchant_0001","ext":{"a":1}}';
      const result = await client.uploadCode(AUTHORIZER_TOKEN, {
        templateId: 42,
        userVersion: '1.2.4',
        userDesc: 'fix',
        extJson,
      });
      assertSentOnce(fake, {
        method: 'POST',
        path,
        query: authorizerQuery(),
        body: { template_id: 42, user_version: '1.2.4', user_desc: 'fix', ext_json: extJson },
      });
      assert.deepEqual(result, {});
    });
  });

  describe('A4 package/audit', () => {
    const path = '/openapi/mp/auth/app/package/audit';

    it('sends audit_note when given', async () => {
      fake.on(path, openapiOk());
      const result = await client.submitAudit(AUTHORIZER_TOKEN, { auditNote: 'test account: demo / demo' });
      assertSentOnce(fake, {
        method: 'POST',
        path,
        query: authorizerQuery(),
        body: { audit_note: 'test account: demo / demo' },
      });
      assert.deepEqual(result, {});
    });

    it('sends an empty body without one', async () => {
      fake.on(path, openapiOk());
      const result = await client.submitAudit(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: {} });
      assert.deepEqual(result, {});
    });
  });

  describe('A5 package/revoke_audit', () => {
    it('sends POST with an empty body', async () => {
      const path = '/openapi/mp/auth/app/package/revoke_audit';
      fake.on(path, openapiOk());
      const result = await client.withdrawAudit(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: {} });
      assert.deepEqual(result, {});
    });
  });

  describe('A6 package/qrcode', () => {
    const path = '/openapi/mp/auth/app/package/qrcode';
    const png: FakeAnswer = { bytes: PNG_BYTES, contentType: 'image/png' };

    it('defaults to the development version (wire: latest) and returns the PNG bytes', async () => {
      fake.on(path, png);
      const result = await client.getQrCode(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'GET', path, query: authorizerQuery({ version: 'latest' }) });
      assert.deepEqual(result, { contentType: 'image/png', png: PNG_BYTES });
      assert.deepEqual([...result.png.subarray(0, 8)], PNG_SIGNATURE);
    });

    it('maps development → latest and sends the optional path', async () => {
      fake.on(path, png);
      const result = await client.getQrCode(AUTHORIZER_TOKEN, { version: 'development', path: 'pages/item/index?id=7&from=qr' });
      assertSentOnce(fake, {
        method: 'GET',
        path,
        query: authorizerQuery({ version: 'latest', path: 'pages/item/index?id=7&from=qr' }),
      });
      assert.deepEqual(result, { contentType: 'image/png', png: PNG_BYTES });
    });

    it('maps audit → audit', async () => {
      fake.on(path, png);
      const result = await client.getQrCode(AUTHORIZER_TOKEN, { version: 'audit' });
      assertSentOnce(fake, { method: 'GET', path, query: authorizerQuery({ version: 'audit' }) });
      assert.deepEqual(result, { contentType: 'image/png', png: PNG_BYTES });
    });

    it('a JSON error answer is a KuaishouApiError (403001 PERMISSION_DENIED, business)', async () => {
      fake.on(path, {
        contentType: 'application/json',
        json: { result: 403001, error_msg: 'permission set 1 not granted' },
      });
      await assert.rejects(client.getQrCode(AUTHORIZER_TOKEN, { version: 'audit' }), (error: unknown) => {
        assert.ok(error instanceof KuaishouApiError, `got ${String(error)}`);
        assert.equal(error.code, 403001);
        assert.equal(error.codeName, 'PERMISSION_DENIED');
        assert.equal(error.kind, 'business');
        assert.equal(error.platformMessage, 'permission set 1 not granted');
        assert.equal(error.operation, 'getQrCode');
        return true;
      });
      assert.equal(fake.count(path), 1);
    });

    it(
      'a JSON success answer instead of PNG bytes is an UnexpectedResponseError',
      async () => {
        fake.on(path, openapiOk({ qrcode_url: 'https://cdn.example.com/qr.png' }));
        await assert.rejects(client.getQrCode(AUTHORIZER_TOKEN), UnexpectedResponseError);
      },
    );

    it(
      'a 200 answer that is neither JSON nor an image is not returned as a PNG',
      async () => {
        fake.on(path, { bytes: new Uint8Array(Buffer.from('<html>gateway</html>')), contentType: 'text/html' });
        await assert.rejects(client.getQrCode(AUTHORIZER_TOKEN), UnexpectedResponseError);
      },
    );
  });

  describe('A7 package/versions', () => {
    const path = '/openapi/mp/auth/app/package/versions';

    it('maps all three versions (unix seconds → epoch ms, PASS → passed, rollback)', async () => {
      fake.on(
        path,
        openapiOk({
          data: {
            latest: { user_version: '1.3.0', user_desc: 'next', template_id: 42, create_time: 1_700_000_300 },
            audit: { user_version: '1.2.0', user_desc: 'audited', template_id: 41, status: 'PASS', submit_time: 1_700_000_200 },
            current: {
              user_version: '1.1.0',
              user_desc: 'live',
              template_id: 40,
              release_time: 1_700_000_100,
              rollback: { can_rollback: true, last_version: '1.0.0' },
            },
          },
        }),
      );
      const result = await client.getVersions(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'GET', path, query: authorizerQuery() });
      assert.deepEqual(result, {
        development: { userVersion: '1.3.0', userDesc: 'next', templateId: 42, createdAt: 1_700_000_300_000 },
        audit: { userVersion: '1.2.0', userDesc: 'audited', templateId: 41, status: 'passed', submittedAt: 1_700_000_200_000 },
        online: {
          userVersion: '1.1.0',
          userDesc: 'live',
          templateId: 40,
          releasedAt: 1_700_000_100_000,
          canRollback: true,
          rollbackVersion: '1.0.0',
        },
      });
    });

    it('maps no versions (data: {}) to {}', async () => {
      fake.on(path, openapiOk({ data: {} }));
      const result = await client.getVersions(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'GET', path, query: authorizerQuery() });
      assert.deepEqual(result, {});
    });

    it('maps AUDITING and REJECT (with reason) and an online version without a rollback target', async () => {
      for (const [wire, ours, reason] of [
        ['AUDITING', 'auditing', undefined],
        ['REJECT', 'rejected', 'privacy policy missing'],
      ] as const) {
        fake.reset();
        fake.on(
          path,
          openapiOk({
            data: {
              latest: null,
              audit: {
                user_version: '2.0.0',
                user_desc: 'big',
                template_id: 50,
                status: wire,
                submit_time: 1_700_000_000,
                ...(reason === undefined ? {} : { reason }),
              },
              current: {
                user_version: '1.0.0',
                user_desc: 'first',
                template_id: 49,
                release_time: 1_600_000_000,
                rollback: { can_rollback: false },
              },
            },
          }),
        );
        const result = await client.getVersions(AUTHORIZER_TOKEN);
        assertSentOnce(fake, { method: 'GET', path, query: authorizerQuery() });
        assert.deepEqual(result, {
          audit: {
            userVersion: '2.0.0',
            userDesc: 'big',
            templateId: 50,
            status: ours,
            submittedAt: 1_700_000_000_000,
            ...(reason === undefined ? {} : { reason }),
          },
          online: { userVersion: '1.0.0', userDesc: 'first', templateId: 49, releasedAt: 1_600_000_000_000, canRollback: false },
        });
      }
    });
  });

  describe('A8 package/release', () => {
    it('sends POST with an empty body', async () => {
      const path = '/openapi/mp/auth/app/package/release';
      fake.on(path, openapiOk());
      const result = await client.release(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: {} });
      assert.deepEqual(result, {});
    });
  });

  describe('A9 package/rollback', () => {
    it('sends POST with an empty body', async () => {
      const path = '/openapi/mp/auth/app/package/rollback';
      fake.on(path, openapiOk());
      const result = await client.rollback(AUTHORIZER_TOKEN);
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: {} });
      assert.deepEqual(result, {});
    });
  });

  const CAPABILITY_WIRE_NAMES: Record<Capability, string> = {
    shortVideoMount: 'SHORT_VIDEO_MOUNT',
    liveMount: 'LIVE_MOUNT',
    publishKuaishou: 'PUBLISH_KUAISHOU',
    phoneNumber: 'PHONE_NUMBER',
  };
  const STATUS_FROM_WIRE: Record<string, CapabilityStatus> = {
    NOT_APPLIED: 'notApplied',
    APPLYING: 'applying',
    APPROVED: 'approved',
    REJECTED: 'rejected',
  };

  it('the tests cover all four capabilities', () => {
    assert.deepEqual(Object.keys(CAPABILITY_WIRE_NAMES).sort(), [...CAPABILITIES].sort());
  });

  describe('A10 capability/apply', () => {
    const path = '/openapi/mp/auth/app/capability/apply';

    for (const capability of CAPABILITIES) {
      it(`${capability} → ${CAPABILITY_WIRE_NAMES[capability]} with reason`, async () => {
        fake.on(path, openapiOk());
        const result = await client.applyCapability(AUTHORIZER_TOKEN, { capability, reason: `we need ${capability}` });
        assertSentOnce(fake, {
          method: 'POST',
          path,
          query: authorizerQuery(),
          body: { capability: CAPABILITY_WIRE_NAMES[capability], reason: `we need ${capability}` },
        });
        assert.deepEqual(result, {});
      });
    }

    it('sends no reason when none is given', async () => {
      fake.on(path, openapiOk());
      await client.applyCapability(AUTHORIZER_TOKEN, { capability: 'phoneNumber' });
      assertSentOnce(fake, { method: 'POST', path, query: authorizerQuery(), body: { capability: 'PHONE_NUMBER' } });
    });
  });

  describe('A11 capability/status', () => {
    const path = '/openapi/mp/auth/app/capability/status';

    for (const capability of CAPABILITIES) {
      it(`${capability}: every status maps`, async () => {
        for (const [wireStatus, status] of Object.entries(STATUS_FROM_WIRE)) {
          fake.reset();
          const reason = wireStatus === 'REJECTED' ? 'category not eligible' : undefined;
          fake.on(path, openapiOk({ status: wireStatus, ...(reason === undefined ? {} : { reason }) }));
          const result = await client.getCapabilityStatus(AUTHORIZER_TOKEN, capability);
          assertSentOnce(fake, {
            method: 'GET',
            path,
            query: authorizerQuery({ capability: CAPABILITY_WIRE_NAMES[capability] }),
          });
          assert.deepEqual(result, { capability, status, ...(reason === undefined ? {} : { reason }) });
        }
      });
    }
  });

  describe('A12 template/list', () => {
    it('sends the component token and maps the templates', async () => {
      const path = '/openapi/mp/tp/template/list';
      fake.on(
        path,
        openapiOk({
          templates: [
            { template_id: 40, user_version: '1.0.0', user_desc: 'first', create_time: 1_690_000_000 },
            { template_id: 41, user_version: '1.1.0', user_desc: 'second', create_time: 1_695_000_000 },
          ],
        }),
      );
      const result = await client.listTemplates(COMPONENT_TOKEN);
      assertSentOnce(fake, { method: 'GET', path, query: componentQuery() });
      assert.deepEqual(result, [
        { templateId: 40, userVersion: '1.0.0', userDesc: 'first', createdAt: 1_690_000_000_000 },
        { templateId: 41, userVersion: '1.1.0', userDesc: 'second', createdAt: 1_695_000_000_000 },
      ]);
    });
  });
});

describe('KuaishouPlatform end to end', () => {
  it('completes an authorization (T2, T4) and calls A7 with the authorizer token from T4', async (t) => {
    const fake = await FakePlatform.start();
    t.after(() => fake.close());
    const now = 1_700_000_000_000;
    const platform = KuaishouPlatform.create({
      componentAppId: COMPONENT_APP_ID,
      componentAppSecret: COMPONENT_APP_SECRET,
      baseUrl: fake.baseUrl,
      retry: { retries: 0 },
      store: new MemoryTokenStore(() => now),
      tokens: { now: () => now, ticketRequestIntervalMs: 0 },
    });
    fake
      .on('/mp/tp/oauth/access_token', oauthOk({ componentAccessToken: 'cat-e2e', expiresIn: 7200 }))
      .on(
        '/mp/tp/oauth/authorizer_access_token',
        oauthOk({
          authorizerAccessToken: 'aat-e2e-from-t4',
          expiresIn: 7200,
          authorizerRefreshToken: 'art-e2e-from-t4',
          refreshExpiresIn: 2592000,
          authorizerAppId: 'ks_merchant_e2e',
          authorizePermission: AUTHORIZE_PERMISSION_WIRE,
        }),
      )
      .on(
        '/openapi/mp/auth/app/package/versions',
        openapiOk({
          data: { latest: { user_version: '0.1.0', user_desc: 'dev', template_id: 1, create_time: 1_700_000_000 } },
        }),
      );

    await platform.tokens.storeTicket('ticket-e2e', 3600);
    const grant = await platform.completeAuthorization('auth-code-e2e');

    assert.deepEqual(grant, {
      appId: 'ks_merchant_e2e',
      permissions: AUTHORIZE_PERMISSION,
      refreshExpiresAt: now + 2592000 * 1000,
      exchangedHere: true,
    });
    const leaked = Object.keys(grant).filter((key) => /token/i.test(key));
    assert.deepEqual(leaked, [], 'the grant carries no token fields');
    assert.ok(!JSON.stringify(grant).includes('aat-e2e-from-t4'));
    assert.ok(!JSON.stringify(grant).includes('art-e2e-from-t4'));

    const versions = await platform.getVersions('ks_merchant_e2e');
    assert.deepEqual(versions, {
      development: { userVersion: '0.1.0', userDesc: 'dev', templateId: 1, createdAt: 1_700_000_000_000 },
    });

    assert.deepEqual(
      fake.requests.map((r) => r.path),
      ['/mp/tp/oauth/access_token', '/mp/tp/oauth/authorizer_access_token', '/openapi/mp/auth/app/package/versions'],
    );
    assert.deepEqual(fake.calls('/mp/tp/oauth/access_token')[0]?.query, secretQuery({ component_verify_ticket: 'ticket-e2e' }));
    assert.deepEqual(fake.calls('/mp/tp/oauth/authorizer_access_token')[0]?.query, {
      component_app_id: COMPONENT_APP_ID,
      component_access_token: 'cat-e2e',
      authorization_code: 'auth-code-e2e',
    });
    const a7 = fake.calls('/openapi/mp/auth/app/package/versions')[0];
    assert.equal(a7?.method, 'GET');
    assert.deepEqual(a7?.query, { component_app_id: COMPONENT_APP_ID, authorizer_access_token: 'aat-e2e-from-t4' });
    assert.equal(a7?.body, undefined);
  });
});
