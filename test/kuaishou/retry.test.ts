import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  KuaishouApiError,
  KuaishouClient,
  RateLimitedError,
  RetryBudget,
  TimeoutError,
  TransportError,
  UnexpectedResponseError,
  type KuaishouClientOptions,
} from '../../src/kuaishou/index.ts';
import { FakePlatform } from '../helpers/fake-platform.ts';

const VERSIONS = '/openapi/mp/auth/app/package/versions';
const RELEASE = '/openapi/mp/auth/app/package/release';
const OK_VERSIONS = { json: { result: 1, data: {} } };

let fake: FakePlatform;
let sleeps: number[];

function client(options: Partial<KuaishouClientOptions> = {}): KuaishouClient {
  return new KuaishouClient({
    componentAppId: 'ks_component',
    componentAppSecret: 'secret-abcdef',
    baseUrl: fake.baseUrl,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    ...options,
  });
}

before(async () => {
  fake = await FakePlatform.start();
});
after(() => fake.close());
beforeEach(() => {
  fake.reset();
  sleeps = [];
});

describe('retries', () => {
  test('a 5xx then success is retried, with exponential backoff and jitter', async () => {
    fake.on(VERSIONS, (_, n) => (n < 3 ? { status: 503, json: { result: 100200500, error_msg: 'busy' } } : OK_VERSIONS));

    assert.deepEqual(await client().getVersions('atoken'), {});

    assert.equal(fake.count(VERSIONS), 3);
    // base 200 ms doubling, minus 25 % jitter × random 0.5
    assert.deepEqual(sleeps, [175, 350]);
  });

  test('a bare HTTP 502 without a body is transient too', async () => {
    fake.on(VERSIONS, (_, n) => (n === 1 ? { status: 502, bytes: Buffer.from('<html>bad gateway</html>'), contentType: 'text/html' } : OK_VERSIONS));
    await client().getVersions('atoken');
    assert.equal(fake.count(VERSIONS), 2);
  });

  test('a business error is not retried and comes back typed', async () => {
    fake.on(RELEASE, { json: { result: 403206, error_msg: 'no passed audit version' } });

    await assert.rejects(client().release('atoken'), (error: unknown) => {
      assert.ok(error instanceof KuaishouApiError);
      assert.equal(error.code, 403206);
      assert.equal(error.codeName, 'NO_PASSED_AUDIT');
      assert.equal(error.kind, 'business');
      assert.equal(error.operation, 'release');
      assert.equal(error.httpStatus, 200);
      assert.equal(error.platformMessage, 'no passed audit version');
      assert.equal(error.retryable, false);
      return true;
    });
    assert.equal(fake.count(RELEASE), 1);
  });

  test('gives up after the policy retries, reporting the attempts', async () => {
    fake.on(VERSIONS, { status: 500, json: { result: 100200500, error_msg: 'down' } });
    await assert.rejects(client({ retry: { retries: 2 } }).getVersions('atoken'), (error: unknown) => {
      assert.ok(error instanceof KuaishouApiError);
      assert.equal(error.attempts, 3);
      return true;
    });
    assert.equal(fake.count(VERSIONS), 3);
  });

  test('a non-idempotent call is not resent after a 5xx (it may have happened)', async () => {
    fake.on(RELEASE, { status: 500, json: { result: 100200500, error_msg: 'down' } });
    await assert.rejects(client().release('atoken'), KuaishouApiError);
    assert.equal(fake.count(RELEASE), 1);
  });

  test('…unless the policy says so', async () => {
    fake.on(RELEASE, (_, n) => (n === 1 ? { status: 500, json: { result: 100200500 } } : { json: { result: 1 } }));
    await client({ retry: { retryNonIdempotent: true } }).release('atoken');
    assert.equal(fake.count(RELEASE), 2);
  });

  test('rate limiting is retried even for non-idempotent calls, honouring retry-after', async () => {
    fake.on(RELEASE, (_, n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '1' }, json: { result: 400002, error_msg: 'slow down' } } : { json: { result: 1 } },
    );
    await client().release('atoken');
    assert.equal(fake.count(RELEASE), 2);
    assert.deepEqual(sleeps, [1000]);
  });

  test('a rate-limit code on HTTP 200 is a RateLimitedError', async () => {
    fake.on(VERSIONS, { json: { result: 400002, error_msg: 'api rate limit' } });
    await assert.rejects(client({ retry: { retries: 0 } }).getVersions('atoken'), RateLimitedError);
  });

  test('a timeout is a TimeoutError and is retried for idempotent calls', async () => {
    fake.on(VERSIONS, (_, n) => (n === 1 ? { delayMs: 300, ...OK_VERSIONS } : OK_VERSIONS));
    await client({ timeoutMs: 100 }).getVersions('atoken');
    assert.equal(fake.count(VERSIONS), 2);

    fake.on(VERSIONS, { delayMs: 300, ...OK_VERSIONS });
    await assert.rejects(client({ timeoutMs: 50, retry: { retries: 0 } }).getVersions('atoken'), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.timeoutMs, 50);
      return true;
    });
  });

  test('a per-call timeout overrides the client default', async () => {
    fake.on(VERSIONS, { delayMs: 200, ...OK_VERSIONS });
    await assert.rejects(client({ timeoutMs: 10_000, retry: { retries: 0 } }).getVersions('atoken', { timeoutMs: 50 }), TimeoutError);
  });

  test("the caller's abort signal stops the call and is not retried", async () => {
    const controller = new AbortController();
    // Abort once the platform has the request (not after a fixed delay, which a loaded machine can beat).
    fake.on(VERSIONS, () => {
      setImmediate(() => controller.abort());
      return { delayMs: 5_000, ...OK_VERSIONS };
    });
    await assert.rejects(client().getVersions('atoken', { signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.aborted, true);
      return true;
    });
    assert.equal(fake.count(VERSIONS), 1);
  });

  test('a dropped connection is a TransportError, retried', async () => {
    fake.on(VERSIONS, (_, n) => (n === 1 ? { destroy: true } : OK_VERSIONS));
    await client().getVersions('atoken');
    assert.equal(fake.count(VERSIONS), 2);
  });

  test('connection refused is retried even for non-idempotent calls (nothing was sent)', async () => {
    const closed = await FakePlatform.start();
    const url = closed.baseUrl;
    await closed.close();
    let calls = 0;
    await assert.rejects(
      client({
        baseUrl: url,
        retry: { retries: 2 },
        fetch: (input, init) => {
          calls++;
          return fetch(input, init);
        },
      }).release('atoken'),
      (error: unknown) => error instanceof TransportError && error.systemCode === 'ECONNREFUSED',
    );
    assert.equal(calls, 3);
  });

  test('a success answer that is not JSON is an UnexpectedResponseError, not retried', async () => {
    fake.on(VERSIONS, { bytes: Buffer.from('hello'), contentType: 'text/plain' });
    await assert.rejects(client().getVersions('atoken'), UnexpectedResponseError);
    assert.equal(fake.count(VERSIONS), 1);
  });
});

describe('retry budget', () => {
  test('an empty budget fails fast instead of retrying', async () => {
    fake.on(VERSIONS, { status: 503, json: { result: 100200500 } });
    const budget = new RetryBudget({ capacity: 10, retryCost: 5 });
    const shared = client({ retryBudget: budget, retry: { retries: 5 } });

    await assert.rejects(shared.getVersions('atoken'), KuaishouApiError);
    assert.equal(fake.count(VERSIONS), 3, 'two resends drained the bucket');
    assert.equal(budget.available, 0);

    await assert.rejects(shared.getVersions('atoken'), KuaishouApiError);
    assert.equal(fake.count(VERSIONS), 4, 'no resend at all once empty');
  });

  test('a fleet-wide outage cannot start a retry storm', async () => {
    fake.on(VERSIONS, { status: 503, json: { result: 100200500 } });
    const shared = client({ retry: { retries: 3 } }); // default bucket: 500 tokens, 5 per resend
    await Promise.all(Array.from({ length: 500 }, () => shared.getVersions('atoken').catch(() => undefined)));
    // 500 first attempts + at most 100 resends, instead of 500 × 4.
    assert.ok(fake.count(VERSIONS) <= 600, `sent ${fake.count(VERSIONS)}`);
  });

  test('successes refill the bucket', () => {
    const budget = new RetryBudget({ capacity: 20, retryCost: 5, successRefund: 1 });
    assert.ok(budget.tryWithdraw(5));
    budget.recordSuccess(0);
    assert.equal(budget.available, 16);
    budget.recordSuccess(5);
    assert.equal(budget.available, 20, 'capped at capacity');
  });
});
