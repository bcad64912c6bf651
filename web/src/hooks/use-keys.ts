/** API keys (admin): the list (never a secret), creating one (its secret shown once), revoking one. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { NewApiKey } from '../api/shapes.ts';

export function useKeys(enabled: boolean) {
  return useQuery({ queryKey: ['keys'], queryFn: async ({ signal }) => (await ok(api.GET('/api/v1/keys', { signal }))).items, enabled, retry: false });
}

export function useCreateKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NewApiKey) => ok(api.POST('/api/v1/keys', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['keys'] }),
  });
}

export function useRevokeKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => ok(api.DELETE('/api/v1/keys/{id}', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['keys'] }),
  });
}
