import { useMutation, useQuery, useQueryClient, type Query, type QueryClient } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { Body, ExtConfig } from '../api/shapes.ts';

/**
 * The merchant's ext config (issues #5, #13): the custom config and the app config, each as the template's
 * defaults, the merchant's overrides and the effective document, with the one version both share.
 */
export function useExt(appId: string, templateId?: number) {
  return useQuery({
    queryKey: ['merchant', appId, 'ext', templateId ?? null],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/ext', { params: { path: { appId }, query: { templateId } }, signal })),
    retry: false,
  });
}

/** The whole ext.json an upload of `templateId` to the merchant would send now (asked once the template is known). */
export function useExtPreview(appId: string, templateId: number | undefined) {
  return useQuery({
    queryKey: ['merchant', appId, 'ext-preview', templateId ?? null],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/ext/preview', { params: { path: { appId }, query: { templateId } }, signal })),
    enabled: templateId !== undefined,
    retry: false,
  });
}

const isMerchantExt = (query: Query): boolean => query.queryKey[0] === 'merchant' && (query.queryKey[2] === 'ext' || query.queryKey[2] === 'ext-preview');

/** A write changes the effective documents and what an upload sends: every merchant's ext view and preview of the template. */
function invalidateMerchantExt(client: QueryClient, appId?: string) {
  return client.invalidateQueries({ predicate: (query) => isMerchantExt(query) && (appId === undefined || query.queryKey[1] === appId) });
}

/** Reads the merchant's ext view and preview again (after a 409: someone else saved meanwhile). */
export function useReloadExt(appId: string) {
  const client = useQueryClient();
  return () => invalidateMerchantExt(client, appId);
}

/**
 * Saves the merchant's overrides: the custom config, the app config, or both (a part left out is kept).
 * The answer replaces the view at once, so the other part's next save names the new version.
 */
export function useSaveExt(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'/api/v1/merchants/{appId}/ext', 'put'>) => ok(api.PUT('/api/v1/merchants/{appId}/ext', { params: { path: { appId } }, body })),
    onSuccess: (saved) => {
      client.setQueriesData<ExtConfig>({ queryKey: ['merchant', appId, 'ext'] }, (view) => (view && view.templateId === saved.templateId ? saved : view));
      return invalidateMerchantExt(client, appId);
    },
  });
}

/** A template's ext defaults: its custom config and app config, one version for both. */
export function useTemplateExt(templateId: number) {
  return useQuery({
    queryKey: ['template', templateId, 'ext'],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/templates/{templateId}/ext', { params: { path: { templateId } }, signal })),
    retry: false,
  });
}

export function useSaveTemplateExt(templateId: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Body<'/api/v1/templates/{templateId}/ext', 'put'>) => ok(api.PUT('/api/v1/templates/{templateId}/ext', { params: { path: { templateId } }, body })),
    onSuccess: (saved) => {
      client.setQueryData(['template', templateId, 'ext'], saved);
      return Promise.all([client.invalidateQueries({ queryKey: ['template', templateId, 'ext'] }), invalidateMerchantExt(client)]);
    },
  });
}
