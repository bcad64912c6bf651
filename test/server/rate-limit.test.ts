import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sealPush } from '../../src/kuaishou/index.ts';
import { assertError } from '../helpers/rest.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const [sqlite] = dialectTargets();

describe('rate limits', { skip: sqlite!.skip }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack(sqlite!, { publicRateLimit: 3 });
  });
  after(async () => {
    await stack?.close();
    await sqlite!.cleanup();
  });

  test('public routes are limited per IP, and X-Forwarded-For does not buy a fresh allowance', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await stack.api('GET', '/healthz', { key: null, headers: { 'x-forwarded-for': `10.0.0.${i}` } })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  });

  test('a refusal is 429 in the error shape, with retry-after within the window and the limit in its details', async () => {
    // The allowance is per address, over every public route: the authorization redirect is refused too.
    const refused = await stack.api('GET', '/callbacks/authorize?authorization_code=x', { key: null });
    const error = assertError(refused, 429, 'rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after: ${refused.headers.get('retry-after')}`);
    assert.equal(error.details.limit, 3);
    assert.equal(error.details.retryAfterS, retryAfter);
    assert.equal(refused.headers.get('x-ratelimit-limit'), '3');
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
  });

  test('routes behind an API key are not limited by the public allowance', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await stack.api('GET', '/api/v1/me')).status, 200, `request ${i}`);
  });

  test("the platform's signed pushes are never rate-limited", async () => {
    const { messageToken, messageKey, componentAppId } = stack.sandbox.sandbox.runtime.state.component;
    for (let i = 0; i < 8; i++) {
      const { body, signature } = sealPush({ event: { raw: { event: 'SOMETHING_NEW', n: i } }, msgId: `burst-${i}` }, { token: messageToken, key: messageKey, componentAppId });
      const answer = await stack.api<{ result: number; message_id: string }>('POST', '/callbacks/events', {
        key: null,
        raw: body,
        headers: { 'content-type': 'application/json', kwaisign: signature },
      });
      assert.equal(answer.status, 200, `push ${i}`);
      assert.deepEqual(answer.json, { result: 1, message_id: `burst-${i}` });
    }
  });
});
