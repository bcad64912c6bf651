import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiGet, apiSend, query } from '../api/client.ts';
import type { ExtConfig } from '../api/types.ts';

/** The merchant's ext config (issue #5): defaults, overrides, the effective document and its version. */
export function useExt(appId: string, templateId?: number) {
  return useQuery({
    queryKey: ['merchant', appId, 'ext', templateId ?? null],
    queryFn: ({ signal }) => apiGet<ExtConfig>(`/api/v1/merchants/${appId}/ext${query({ templateId })}`, signal),
    retry: false,
  });
}

export function useSaveExt(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { templateId: number; overrides: Record<string, unknown>; baseVersion: number }) => apiSend<ExtConfig>('PUT', `/api/v1/merchants/${appId}/ext`, body),
    onSuccess: () => client.invalidateQueries({ queryKey: ['merchant', appId, 'ext'] }),
  });
}
