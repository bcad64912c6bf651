import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { Role } from '../api/shapes.ts';

const RANK: Record<Role, number> = { runtime: 0, viewer: 1, operator: 2, admin: 3 };

export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: ({ signal }) => ok(api.GET('/api/v1/me', { signal })), staleTime: 5 * 60_000, retry: false });
}

/** True when the signed-in key has at least `role`: the console shows only what the key may do. */
export function useCan(role: Role): boolean {
  const me = useMe().data;
  return me !== undefined && RANK[me.role] >= RANK[role];
}
