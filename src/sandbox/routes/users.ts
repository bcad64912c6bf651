/**
 * The mini-program side of the control API: Kuaishou users, and what a mini-program's page does through
 * the ks API — `ks.login` (a code), the `getPhoneNumber` button, `ks.request` (made by the sandbox) — plus
 * the subscription messages R2 accepted. Errors `{error: {code, message}}`; the ks API's refusals add the
 * `errMsg` its fail callback gets.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { MiniAppRecord } from '../model.ts';
import { nativeRequest } from '../native-request.ts';
import { messagesOf } from '../rules/messages.ts';
import { createUser, issueJsCode, phoneNumberButton, requireUser } from '../rules/users.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { SandboxError } from '../sandbox-error.ts';
import { ControlError } from './control.ts';

type AppParams = { Params: { appId: string } };

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError(400, 'invalid_body', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Rule violations as control-API errors: 400 for bad input, 404 for unknown ids. */
function control<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof SandboxError) {
      const status = error.httpStatus >= 400 ? error.httpStatus : 409;
      throw new ControlError(status, status === 404 ? 'not_found' : status === 400 ? 'invalid_body' : error.codeName.toLowerCase(), error.message);
    }
    throw error;
  }
}

export function userRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;
  const appOf = (appId: string): MiniAppRecord => control(() => runtime.requireApp(appId));

  app.post('/sandbox/api/users', (request, reply: FastifyReply) => {
    const body = objectBody(request.body);
    return reply.code(201).send(control(() => createUser(state, body)));
  });

  app.get('/sandbox/api/users', () => ({ items: Object.values(state.data.users.users) }));

  // ks.login: a single-use code for this app and this user.
  app.post<AppParams>('/sandbox/api/apps/:appId/login', (request) => {
    const body = objectBody(request.body);
    const target = appOf(request.params.appId);
    const user = control(() => requireUser(state, body.userId));
    return issueJsCode(state, target, user, runtime.jsCodeTtlMs);
  });

  // The getPhoneNumber button: sealed with the user's current session_key for this app.
  app.post<AppParams>('/sandbox/api/apps/:appId/phone', (request) => {
    const body = objectBody(request.body);
    const target = appOf(request.params.appId);
    const user = control(() => requireUser(state, body.userId));
    return phoneNumberButton(state, target, user);
  });

  // ks.request: the sandbox makes the request (domain rule in native-request.ts).
  app.post<AppParams>('/sandbox/api/apps/:appId/request', (request) => {
    const body = objectBody(request.body);
    return nativeRequest(appOf(request.params.appId), body);
  });

  app.get<AppParams>('/sandbox/api/apps/:appId/messages', (request) => {
    const target = appOf(request.params.appId);
    return { items: messagesOf(state, target.appId) };
  });
}
