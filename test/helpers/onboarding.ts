/** Helpers for quick-activation (onboarding) tests: the stable channel used, status polling, call counts. */
import assert from 'node:assert/strict';
import type { Stack } from './service.ts';
import { waitFor } from './sandbox.ts';

export interface OnboardingJson {
  status: string;
  channel: string | null;
  rolloutId: string | null;
  reason: string | null;
  missingPermissions: number[];
  timeline: { step: string; at: number | null; done: boolean }[];
}

export const STABLE = {
  templateId: 2,
  userVersion: '2.0.0',
  userDesc: 'quick activation',
  extDefaults: { theme: 'red' },
  domainPolicy: { server: { request: ['https://api.example.com'], uploadFile: ['https://files.example.com'] }, webview: ['https://h5.example.com'] },
  autoRelease: true,
};

export async function onboardingOf(stack: Stack, appId: string): Promise<OnboardingJson> {
  const answer = await stack.api<{ onboarding: OnboardingJson }>('GET', `/api/v1/merchants/${appId}`, { key: stack.keys.viewer });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json.onboarding;
}

export async function untilOnboarding(stack: Stack, appId: string, status: string, timeoutMs = 20_000): Promise<OnboardingJson> {
  let last: OnboardingJson | undefined;
  return waitFor(
    async () => {
      const answer = await stack.api<{ onboarding?: OnboardingJson }>('GET', `/api/v1/merchants/${appId}`, { key: stack.keys.viewer });
      last = answer.json.onboarding;
      return last?.status === status ? last : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `${appId} onboarding ${status} (last: ${JSON.stringify(last)})` },
  );
}

/** Per-app operation counts (calls answered `result: 1`). */
export async function okCalls(stack: Stack, appId: string, operation: string): Promise<number> {
  return (await stack.sandbox.calls()).byApp[appId]?.[operation]?.ok ?? 0;
}
