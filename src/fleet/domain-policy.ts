/**
 * Domain policies as data: checking one against the component's registered domains, bringing its
 * domains to the platform's form, and the diff between a merchant's current domains and the policy.
 * Pure functions: the calls are in `rollout-steps.ts` (apply) and `domain-policy-service.ts` (dry run).
 */
import { checkServerDomains, checkWebviewDomains, type RegisteredDomains } from './domain-rules.ts';
import { invalid } from './errors.ts';
import type { ServerDomains } from './platform-port.ts';
import { SERVER_DOMAIN_LISTS, type DomainPolicySpec, type ServerDomainList } from './rollout-model.ts';

export interface ListDiff {
  add: string[];
  remove: string[];
}

/** Per list the policy names: what a `set` would add and remove. Lists the policy leaves alone are absent. */
export interface DomainDiff {
  server: Partial<Record<ServerDomainList, ListDiff>>;
  webview: ListDiff | null;
  inSync: boolean;
}

/** What a merchant has now, for the lists the policy names (`undefined`: not read). */
export interface CurrentDomains {
  server?: ServerDomains;
  webview?: string[];
}

/** The form the platform keeps a domain in (scheme and host, lower case), so equal domains compare equal. */
export function canonicalDomain(domain: string): string {
  try {
    const url = new URL(domain);
    return `${url.protocol}//${url.host.toLowerCase()}`;
  } catch {
    return domain;
  }
}

const canonicalList = (list: readonly string[]): string[] => [...new Set(list.map(canonicalDomain))];

export function namesServer(spec: DomainPolicySpec): boolean {
  return spec.server !== undefined && SERVER_DOMAIN_LISTS.some((list) => spec.server?.[list] !== undefined);
}

export function namesWebview(spec: DomainPolicySpec): boolean {
  return spec.webview !== undefined;
}

/**
 * Refuses a policy that names no list or a domain the platform would refuse (scheme, path, not one of
 * the component's registered domains), before any call; returns it in the platform's form, without
 * duplicates.
 */
export function checkDomainPolicy(spec: DomainPolicySpec, registered: RegisteredDomains): DomainPolicySpec {
  if (!namesServer(spec) && !namesWebview(spec)) throw invalid('the domain policy names no list: give server domains (request, socket, uploadFile, downloadFile, udp) or webview domains');
  const server: Partial<Record<ServerDomainList, string[]>> = {};
  for (const list of SERVER_DOMAIN_LISTS) {
    const given = spec.server?.[list];
    if (given !== undefined) server[list] = given;
  }
  if (namesServer(spec)) checkServerDomains({ action: 'set', ...server }, registered.server);
  if (spec.webview !== undefined) checkWebviewDomains(spec.webview, registered.webview);
  const canonical: DomainPolicySpec = {};
  if (namesServer(spec)) {
    canonical.server = {};
    for (const [list, domains] of Object.entries(server) as [ServerDomainList, string[]][]) canonical.server[list] = canonicalList(domains);
  }
  if (spec.webview !== undefined) canonical.webview = canonicalList(spec.webview);
  return canonical;
}

function listDiff(desired: readonly string[], current: readonly string[]): ListDiff {
  const have = new Set(current.map(canonicalDomain));
  const want = new Set(desired.map(canonicalDomain));
  return { add: [...want].filter((d) => !have.has(d)), remove: [...have].filter((d) => !want.has(d)) };
}

const empty = (diff: ListDiff): boolean => diff.add.length === 0 && diff.remove.length === 0;

export function diffDomains(spec: DomainPolicySpec, current: CurrentDomains): DomainDiff {
  const server: Partial<Record<ServerDomainList, ListDiff>> = {};
  let inSync = true;
  for (const list of SERVER_DOMAIN_LISTS) {
    const desired = spec.server?.[list];
    if (desired === undefined) continue;
    const diff = listDiff(desired, current.server?.[list] ?? []);
    server[list] = diff;
    if (!empty(diff)) inSync = false;
  }
  const webview = spec.webview === undefined ? null : listDiff(spec.webview, current.webview ?? []);
  if (webview && !empty(webview)) inSync = false;
  return { server, webview, inSync };
}

/** The five lists a server-domain `set` sends: the policy's where it names one, the current one elsewhere. */
export function serverSetLists(spec: DomainPolicySpec, current: ServerDomains): ServerDomains {
  const next = { ...current };
  for (const list of SERVER_DOMAIN_LISTS) {
    const desired = spec.server?.[list];
    if (desired !== undefined) next[list] = desired;
  }
  return next;
}

export function serverDrifts(diff: DomainDiff): boolean {
  return Object.values(diff.server).some((list) => !empty(list));
}

export function webviewDrifts(diff: DomainDiff): boolean {
  return diff.webview !== null && !empty(diff.webview);
}
