/**
 * A sandbox on a loopback port with a raw control function (`control(method, '/sandbox/api/…')` → `{status,
 * body}`), a client and its push keys: the harness of the sandbox's push, page and robustness suites.
 * (test/helpers/sandbox.ts is the richer harness the other suites use.)
 */
import { KuaishouClient, type PushKeys } from '../../src/kuaishou/index.ts';
import { buildSandbox, type BuildSandboxOptions, type Sandbox } from '../../src/sandbox/app.ts';
import { sandboxOptionsFromEnv } from '../../src/sandbox/config.ts';

export interface RawSandbox {
  sandbox: Sandbox;
  url: string;
  control<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  client: KuaishouClient;
  keys: PushKeys;
}

export async function startRawSandbox(overrides: BuildSandboxOptions = {}): Promise<RawSandbox> {
  const sandbox = await buildSandbox(sandboxOptionsFromEnv({}), {
    port: 0,
    host: '127.0.0.1',
    pushRetryDelayMs: 20,
    ...overrides,
    component: { auditDelayMs: 50, capabilityDelayMs: 50, ...overrides.component },
  });
  const url = await sandbox.listen();
  const { component } = sandbox.runtime.state;
  return {
    sandbox,
    url,
    async control<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${url}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    client: new KuaishouClient({
      componentAppId: component.componentAppId,
      componentAppSecret: component.componentAppSecret,
      baseUrl: url,
      retry: { retries: 0 },
    }),
    keys: { token: component.messageToken, key: component.messageKey, componentAppId: component.componentAppId },
  };
}
