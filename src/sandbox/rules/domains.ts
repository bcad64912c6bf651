/**
 * Server and webview domain rules (contract, A1/A2): each type has its scheme; every domain must be one of
 * the component's registered domains or a subdomain; duplicates are ignored; deleting an absent domain
 * fails with 403106. `set` overwrites every list (an omitted list becomes empty), as on WeChat and Douyin.
 */
import type { WireDomainAction } from '../../kuaishou/wire.ts';
import type { MiniAppRecord, ServerDomainRecord } from '../model.ts';
import { SandboxError } from '../sandbox-error.ts';

export const MAX_DOMAINS_PER_LIST = 200;

const SERVER_SCHEMES: Record<keyof ServerDomainRecord, string> = {
  request: 'https:',
  socket: 'wss:',
  uploadFile: 'https:',
  downloadFile: 'https:',
  udp: 'udp:',
};

const ACTIONS: readonly WireDomainAction[] = ['add', 'delete', 'set', 'get'];

export function parseAction(value: unknown): WireDomainAction {
  if (typeof value !== 'string' || !(ACTIONS as readonly string[]).includes(value)) {
    throw new SandboxError('INVALID_PARAMS', 'action must be one of add, delete, set, get');
  }
  return value as WireDomainAction;
}

/** Validates one list from a request body; undefined when the field is absent. */
export function parseDomainList(value: unknown, field: string, scheme: string, registered: readonly string[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new SandboxError('INVALID_PARAMS', `${field} must be an array of strings`);
  }
  if (value.length > MAX_DOMAINS_PER_LIST) throw new SandboxError('INVALID_PARAMS', `${field}: at most ${MAX_DOMAINS_PER_LIST} domains`);
  const list: string[] = [];
  for (const domain of value) {
    const normalised = checkDomain(domain, field, scheme, registered);
    if (!list.includes(normalised)) list.push(normalised);
  }
  return list;
}

function checkDomain(domain: string, field: string, scheme: string, registered: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(domain);
  } catch {
    throw new SandboxError('DOMAIN_SCHEME_INVALID', `${field}: "${domain}" is not ${scheme}//host`);
  }
  if (url.protocol !== scheme) throw new SandboxError('DOMAIN_SCHEME_INVALID', `${field}: "${domain}" must start with ${scheme}//`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new SandboxError('DOMAIN_SCHEME_INVALID', `${field}: "${domain}" must be a bare ${scheme}//host`);
  }
  const host = url.hostname.toLowerCase();
  if (!registered.some((parent) => host === parent || host.endsWith(`.${parent}`))) {
    throw new SandboxError('DOMAIN_NOT_REGISTERED', `${field}: ${host} is not a registered domain of the component or its subdomain`);
  }
  return `${scheme}//${url.host.toLowerCase()}`;
}

function apply(current: string[], given: string[] | undefined, action: WireDomainAction, field: string): string[] {
  if (action === 'set') return given ?? [];
  if (!given) return current;
  if (action === 'add') return [...current, ...given.filter((domain) => !current.includes(domain))];
  // delete
  const absent = given.find((domain) => !current.includes(domain));
  if (absent) throw new SandboxError('DOMAIN_NOT_FOUND', `${field}: ${absent} is not configured`);
  return current.filter((domain) => !given.includes(domain));
}

const WIRE_FIELDS: Record<keyof ServerDomainRecord, string> = {
  request: 'request',
  socket: 'socket',
  uploadFile: 'upload_file',
  downloadFile: 'download_file',
  udp: 'udp',
};

/** A1. Checks everything before changing anything. */
export function changeServerDomains(app: MiniAppRecord, body: Record<string, unknown>, registered: readonly string[]): ServerDomainRecord {
  const action = parseAction(body.action);
  if (action === 'get') return app.serverDomains;
  const next = { ...app.serverDomains };
  for (const key of Object.keys(SERVER_SCHEMES) as (keyof ServerDomainRecord)[]) {
    const field = WIRE_FIELDS[key];
    const given = parseDomainList(body[field], field, SERVER_SCHEMES[key], registered);
    next[key] = apply(app.serverDomains[key], given, action, field);
    if (next[key].length > MAX_DOMAINS_PER_LIST) throw new SandboxError('INVALID_PARAMS', `${field}: at most ${MAX_DOMAINS_PER_LIST} domains`);
  }
  app.serverDomains = next;
  return next;
}

/** A2. */
export function changeWebviewDomains(app: MiniAppRecord, body: Record<string, unknown>, registered: readonly string[]): string[] {
  const action = parseAction(body.action);
  if (action === 'get') return app.webviewDomains;
  const given = parseDomainList(body.webview_domain, 'webview_domain', 'https:', registered);
  const next = apply(app.webviewDomains, given, action, 'webview_domain');
  if (next.length > MAX_DOMAINS_PER_LIST) throw new SandboxError('INVALID_PARAMS', `webview_domain: at most ${MAX_DOMAINS_PER_LIST} domains`);
  app.webviewDomains = next;
  return next;
}
