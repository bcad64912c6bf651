/** The merchant runtime as operators see it: a merchant's mini-program users, and the platform (sandbox or not). */
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';

/** GET /api/v1/platform: read once per sign-in (it changes only with the server's configuration). */
export function usePlatform() {
  return useQuery({ queryKey: ['platform'], queryFn: ({ signal }) => ok(api.GET('/api/v1/platform', { signal })), staleTime: Infinity, retry: false });
}

/**
 * The simulator's page for a merchant: `simulatorUrl` (`…/sandbox/apps/{appId}`) with the app id filled in,
 * and `?version=experience` for the development (experience) version. Null when there is no simulator.
 */
export function simulatorHref(simulatorUrl: string | null | undefined, appId: string, experience = false): string | null {
  if (!simulatorUrl) return null;
  const url = new URL(simulatorUrl.replaceAll('{appId}', encodeURIComponent(appId)), location.href);
  if (experience) url.searchParams.set('version', 'experience');
  return url.href;
}

/** The simulator's URL for `appId` when the server speaks to a sandbox, else null (also while loading). */
export function useSimulatorHref(appId: string, experience = false): string | null {
  const platform = usePlatform().data;
  return platform?.sandbox ? simulatorHref(platform.simulatorUrl, appId, experience) : null;
}

/** GET /api/v1/merchants/:appId/runtime: counts, so never cached (asked again, and every 15 s on screen). */
export function useRuntimeStats(appId: string) {
  return useQuery({
    queryKey: ['merchant', appId, 'runtime'],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/runtime', { params: { path: { appId } }, signal })),
    staleTime: 0,
    refetchInterval: 15_000,
    retry: false,
  });
}

/** GET /api/v1/merchants/:appId/users, `limit` at a time by openId; "more" follows nextCursor. */
export function useRuntimeUsers(appId: string, limit = 10) {
  return useInfiniteQuery({
    queryKey: ['merchant', appId, 'users', limit],
    queryFn: ({ pageParam, signal }) =>
      ok(api.GET('/api/v1/merchants/{appId}/users', { params: { path: { appId }, query: { limit, ...(pageParam ? { cursor: pageParam } : {}) } }, signal })),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    retry: false,
  });
}
