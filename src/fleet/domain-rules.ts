/**
 * Domain checks made before any platform call: scheme per list and membership in the component's
 * registered domains (or a subdomain), so an operator's typo fails fast with a clear message.
 */
import { invalid } from './errors.ts';
import type { ServerDomains, ServerDomainsChange } from './platform-port.ts';

export interface RegisteredDomains {
  server: string[];
  webview: string[];
}

const SCHEMES: Record<keyof ServerDomains, string> = {
  request: 'https:',
  socket: 'wss:',
  uploadFile: 'https:',
  downloadFile: 'https:',
  udp: 'udp:',
};

function check(domain: string, field: string, scheme: string, registered: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(domain);
  } catch {
    return `${field}: "${domain}" is not a URL like ${scheme}//host`;
  }
  if (url.protocol !== scheme) return `${field}: "${domain}" must use ${scheme}//`;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) return `${field}: "${domain}" must be a bare host, without path or query`;
  const host = url.hostname.toLowerCase();
  // No registered list configured (e.g. the real platform's list unknown): let the platform decide.
  if (registered.length > 0 && !registered.some((parent) => host === parent || host.endsWith(`.${parent}`))) {
    return `${field}: ${host} is not one of the component's registered domains (${registered.join(', ')}) or a subdomain`;
  }
  return undefined;
}

export function checkServerDomains(change: Exclude<ServerDomainsChange, { action: 'get' }>, registered: readonly string[]): void {
  const problems: string[] = [];
  for (const field of Object.keys(SCHEMES) as (keyof ServerDomains)[]) {
    for (const domain of change[field] ?? []) {
      const problem = check(domain, field, SCHEMES[field], registered);
      if (problem) problems.push(problem);
    }
  }
  if (problems.length > 0) throw invalid(problems[0]!, { problems });
}

export function checkWebviewDomains(domains: readonly string[], registered: readonly string[]): void {
  const problems = domains.map((domain) => check(domain, 'domains', 'https:', registered)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw invalid(problems[0]!, { problems });
}
