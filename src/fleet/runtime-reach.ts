/**
 * Whether merchants' mini-programs can reach the runtime (docs/runtime.md) under a domain policy: a page
 * may only `ks.request` hosts in its `request` server domains, and the runtime answers at PUBLIC_URL. The
 * onboarding dry run and the domain-policy drift report carry what this finds as warnings.
 */
import type { DomainPolicySpec } from './rollout-model.ts';

export interface PolicyWarning {
  code: 'runtime_host_missing' | 'runtime_not_https';
  message: string;
}

/** `runtimeUrl`: PUBLIC_URL. Warnings for a policy that names the request list (null: the merchant's domains stay as they are). */
export function runtimeReachWarnings(policy: DomainPolicySpec | null, runtimeUrl: string): PolicyWarning[] {
  const request = policy?.server?.request;
  if (request === undefined) return [];
  let url: URL;
  try {
    url = new URL(runtimeUrl);
  } catch {
    return [];
  }
  if (url.protocol !== 'https:') {
    return [
      {
        code: 'runtime_not_https',
        message: `PUBLIC_URL (${url.origin}) is not https: a mini-program may only call https request domains, so merchants' pages cannot reach the runtime there (the sandbox's simulator lets loopback through, as the developer tools do)`,
      },
    ];
  }
  const origin = `https://${url.host.toLowerCase()}`;
  if (request.some((domain) => domain.toLowerCase() === origin)) return [];
  return [
    {
      code: 'runtime_host_missing',
      message: `the policy's request domains leave out ${origin}, where the runtime answers (PUBLIC_URL): merchants' mini-programs could not log in or reach /runtime/v1; add it to serverDomains.request`,
    },
  ];
}
