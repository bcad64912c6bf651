/** A small history-API router: the console's pages by path, links that keep the keyboard and middle-click. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type Route =
  | { page: 'dashboard' }
  | { page: 'merchants' }
  | { page: 'merchant'; appId: string }
  | { page: 'invite' }
  | { page: 'templates' }
  | { page: 'rollouts' }
  | { page: 'rollout-new' }
  | { page: 'rollout'; id: string }
  | { page: 'domain-policies' }
  | { page: 'channels' }
  | { page: 'audit-log' }
  | { page: 'keys' }
  | { page: 'not-found' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0) return { page: 'dashboard' };
  if (first === 'merchants' && parts.length === 1) return { page: 'merchants' };
  if (first === 'merchants' && second && parts.length === 2) return { page: 'merchant', appId: second };
  if (first === 'invite' && parts.length === 1) return { page: 'invite' };
  if (first === 'templates' && parts.length === 1) return { page: 'templates' };
  if (first === 'rollouts' && parts.length === 1) return { page: 'rollouts' };
  if (first === 'rollouts' && second === 'new' && parts.length === 2) return { page: 'rollout-new' };
  if (first === 'rollouts' && second && parts.length === 2) return { page: 'rollout', id: second };
  if (first === 'domain-policies' && parts.length === 1) return { page: 'domain-policies' };
  if (first === 'channels' && parts.length === 1) return { page: 'channels' };
  if (first === 'audit-log' && parts.length === 1) return { page: 'audit-log' };
  if (first === 'keys' && parts.length === 1) return { page: 'keys' };
  return { page: 'not-found' };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((listener) => listener()));

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listeners.forEach((listener) => listener());
  window.scrollTo(0, 0);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current location (path and query string). */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const url = new URL(href, location.origin);
  return { pathname: url.pathname, search: url.searchParams };
}

export function useRoute(): Route {
  return parseRoute(useLocation().pathname);
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}

export const merchantPath = (appId: string) => `/merchants/${encodeURIComponent(appId)}`;
export const rolloutPath = (id: string) => `/rollouts/${encodeURIComponent(id)}`;
