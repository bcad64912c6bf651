import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runtimeReachWarnings } from '../../src/fleet/runtime-reach.ts';

const codes = (policy: Parameters<typeof runtimeReachWarnings>[0], url: string): string[] => runtimeReachWarnings(policy, url).map((w) => w.code);

test('a policy whose request domains include the runtime host: no warning (case-insensitive, port kept)', () => {
  assert.deepEqual(codes({ server: { request: ['https://api.example.com', 'https://isv.example.com'] } }, 'https://isv.example.com'), []);
  assert.deepEqual(codes({ server: { request: ['https://ISV.example.com'] } }, 'https://isv.example.com/'), []);
  assert.deepEqual(codes({ server: { request: ['https://isv.example.com:8443'] } }, 'https://isv.example.com:8443'), []);
});

test('a request list without the runtime host warns, naming the host and the fix', () => {
  const [warning, ...rest] = runtimeReachWarnings({ server: { request: ['https://api.example.com'] } }, 'https://isv.example.com');
  assert.deepEqual(rest, []);
  assert.equal(warning?.code, 'runtime_host_missing');
  assert.match(warning.message, /leave out https:\/\/isv\.example\.com/);
  assert.match(warning.message, /serverDomains\.request/);
  // Another port is another origin.
  assert.deepEqual(codes({ server: { request: ['https://isv.example.com'] } }, 'https://isv.example.com:8443'), ['runtime_host_missing']);
  // An empty list leaves everyone out.
  assert.deepEqual(codes({ server: { request: [] } }, 'https://isv.example.com'), ['runtime_host_missing']);
});

test('an http PUBLIC_URL cannot be a request domain at all', () => {
  assert.deepEqual(codes({ server: { request: ['https://api.example.com'] } }, 'http://127.0.0.1:3300'), ['runtime_not_https']);
});

test('no policy, or one that leaves the request list alone: nothing to say', () => {
  assert.deepEqual(codes(null, 'https://isv.example.com'), []);
  assert.deepEqual(codes({ webview: ['https://h5.example.com'] }, 'https://isv.example.com'), []);
  assert.deepEqual(codes({ server: { socket: ['wss://ws.example.com'] } }, 'https://isv.example.com'), []);
});
