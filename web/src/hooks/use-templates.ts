import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';

export function useTemplates() {
  return useQuery({
    queryKey: ['templates'],
    queryFn: async ({ signal }) => (await ok(api.GET('/api/v1/templates', { signal }))).items,
    staleTime: 60_000,
  });
}
