import { useQuery } from '@tanstack/react-query';
import { apiGet } from '../api/client.ts';
import type { Template } from '../api/types.ts';

export function useTemplates() {
  return useQuery({
    queryKey: ['templates'],
    queryFn: async ({ signal }) => (await apiGet<{ items: Template[] }>('/api/v1/templates', signal)).items,
    staleTime: 60_000,
  });
}
