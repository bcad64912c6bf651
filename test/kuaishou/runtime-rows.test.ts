/** R1 code2session and R2 subscription messages on the wire, against a loopback fake platform. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KuaishouApiError, KuaishouClient, redact } from '../../src/kuaishou/index.ts';
import { FakePlatform } from '../helpers/fake-platform.ts';

const COMPONENT_APP_ID = 'ks_component_0001';
const AUTHORIZER_TOKEN = 'authorizer-access-token-0001';

describe('R1, R2 against the wire contract', () => {
  let fake: FakePlatform;
  let client: KuaishouClient;
  before(async () => {
    fake = await FakePlatform.start();
    client = new KuaishouClient({ componentAppId: COMPONENT_APP_ID, componentAppSecret: 'component-secret-0001', baseUrl: fake.baseUrl, retry: { retries: 2, baseDelayMs: 1 } });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('R1: GET code2session with the authorizer token and js_code → openId and sessionKey', async () => {
    fake.on('/openapi/mp/tp/auth/code2session', () => ({ json: { result: 1, error_msg: '', open_id: 'f0a1b2', session_key: 'AAECAwQFBgcICQoLDA0ODw==' } }));
    const session = await client.code2Session(AUTHORIZER_TOKEN, 'js-code-123');
    assert.deepEqual(session, { openId: 'f0a1b2', sessionKey: 'AAECAwQFBgcICQoLDA0ODw==' });
    const [request] = fake.requests;
    assert.equal(fake.requests.length, 1);
    assert.equal(request?.method, 'GET');
    assert.deepEqual(request?.query, { component_app_id: COMPONENT_APP_ID, authorizer_access_token: AUTHORIZER_TOKEN, js_code: 'js-code-123' });
  });

  it('R1: a refused code is a business error, never resent (a code is single-use)', async () => {
    fake.on('/openapi/mp/tp/auth/code2session', () => ({ json: { result: 403401, error_msg: 'js_code invalid' } }));
    await assert.rejects(client.code2Session(AUTHORIZER_TOKEN, 'used'), (error: unknown) => error instanceof KuaishouApiError && error.codeName === 'JS_CODE_INVALID');
    fake.reset();
    fake.on('/openapi/mp/tp/auth/code2session', () => ({ status: 500, json: { result: 100200500, error_msg: 'busy' } }));
    await assert.rejects(client.code2Session(AUTHORIZER_TOKEN, 'maybe-spent'));
    assert.equal(fake.requests.length, 1, 'a 5xx is not resent: the platform may have spent the code');
  });

  it('R2: POST form-urlencoded template_id, to_user, page, data as JSON text', async () => {
    fake.on('/openapi/mp/developer/message/template/send', () => ({ json: { result: 1, error_msg: '' } }));
    const data = { thing1: { value: '川味小馆' }, amount2: { value: '¥88.00' } };
    assert.deepEqual(await client.sendSubscriptionMessage(AUTHORIZER_TOKEN, { templateId: 'tpl_1', toOpenId: 'f0a1b2', page: 'pages/order?id=1', data }), {});
    const [request] = fake.requests;
    assert.equal(request?.method, 'POST');
    assert.match(String(request?.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.deepEqual(request?.query, { component_app_id: COMPONENT_APP_ID, authorizer_access_token: AUTHORIZER_TOKEN });
    assert.deepEqual(request?.body, { template_id: 'tpl_1', to_user: 'f0a1b2', page: 'pages/order?id=1', data: JSON.stringify(data) });
    fake.reset();
    fake.on('/openapi/mp/developer/message/template/send', () => ({ json: { result: 1, error_msg: '' } }));
    await client.sendSubscriptionMessage(AUTHORIZER_TOKEN, { templateId: 'tpl_1', toOpenId: 'f0a1b2', data: {} });
    assert.deepEqual(fake.requests[0]?.body, { template_id: 'tpl_1', to_user: 'f0a1b2', data: '{}' }, 'no page when none is given');
  });

  it('session keys and codes are redacted by name', () => {
    assert.equal(redact('js_code=abc123456&x=1'), 'js_code=[REDACTED]&x=1');
    assert.equal(redact('{"session_key":"AAECAwQFBgcICQoLDA0ODw=="}'), '{"session_key":"[REDACTED]"}');
    assert.equal(redact('{"sessionToken":"kss_abcdefgh"}'), '{"sessionToken":"[REDACTED]"}');
  });
});
