import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { Body } from '../api/shapes.ts';

/** The merchant's ext config (issue #5): defaults, overrides, the effective document and its version. */
export function useExt(appId: string, templateId?: number) {
  return useQuery({
    queryKey: ['merchant', appId, 'ext', templateId ?? null],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/ext', { params: { path: { appId }, query: { templateId } }, signal })),
    retry: false,
  });
}

export function useSaveExt(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'/api/v1/merchants/{appId}/ext', 'put'>) => ok(api.PUT('/api/v1/merchants/{appId}/ext', { params: { path: { appId } }, body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['merchant', appId, 'ext'] }),
  });
}
