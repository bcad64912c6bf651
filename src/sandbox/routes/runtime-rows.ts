/** R1–R2: the rows a merchant's mini-program runtime needs, on the app's behalf (docs/runtime.md). */
import type { FastifyInstance } from 'fastify';
import { sendMessage } from '../rules/messages.ts';
import { exchangeJsCode } from '../rules/users.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { registerAuthorizedRoute } from './platform-route.ts';

export function runtimeRowRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;

  // R1: the code must be this app's (the token's); each exchange replaces the pair's session_key.
  registerAuthorizedRoute(app, runtime, 'code2Session', (target, { query }) => ({ ...exchangeJsCode(state, target, query.js_code) }));

  // R2: form fields; the rate is checked first, and only accepted sends count towards it.
  registerAuthorizedRoute(app, runtime, 'sendSubscriptionMessage', (target, { body }) => {
    runtime.messageRate.check(target.appId);
    sendMessage(state, target, body);
    runtime.messageRate.record(target.appId);
    return {};
  });
}
