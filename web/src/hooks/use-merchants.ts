import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ok } from '../api/client.ts';
import type { Body, CapabilityName, MerchantQuery, PathWith, ServerDomains } from '../api/shapes.ts';

/** The list's filters, sort and page; `onboarding: 'stuck'` combines with no other filter or sort. */
export type MerchantListParams = Omit<MerchantQuery, 'total'>;

export function useMerchantPage(params: MerchantListParams) {
  return useQuery({
    queryKey: ['merchants', params],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants', { params: { query: { limit: 50, ...params, total: true } }, signal })),
    placeholderData: keepPreviousData,
  });
}

/** How many merchants match a filter (the dashboard's counts). */
export function useMerchantCount(filter: Pick<MerchantQuery, 'status' | 'auditState' | 'q'>) {
  return useQuery({
    queryKey: ['merchants', 'count', filter],
    queryFn: async ({ signal }) => (await ok(api.GET('/api/v1/merchants', { params: { query: { ...filter, limit: 1, total: true } }, signal }))).total ?? 0,
    // Counts move with every authorization and audit: always asked again, and every 15 s on screen.
    staleTime: 0,
    refetchInterval: 15_000,
  });
}

export function useMerchant(appId: string) {
  return useQuery({ queryKey: ['merchant', appId], queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}', { params: { path: { appId } }, signal })) });
}

export function useVersions(appId: string) {
  return useQuery({
    queryKey: ['merchant', appId, 'versions'],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/versions', { params: { path: { appId } }, signal })),
    retry: false,
  });
}

export function useServerDomains(appId: string) {
  return useQuery({
    queryKey: ['merchant', appId, 'server-domains'],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/domains/server', { params: { path: { appId } }, signal })),
    retry: false,
  });
}

export function useWebviewDomains(appId: string) {
  return useQuery({
    queryKey: ['merchant', appId, 'webview-domains'],
    queryFn: async ({ signal }) => (await ok(api.GET('/api/v1/merchants/{appId}/domains/webview', { params: { path: { appId } }, signal }))).domains,
    retry: false,
  });
}

/** The experience QR code, fetched with the key and shown through a blob URL (revoked when replaced). */
export function useQrCode(appId: string, version: 'latest' | 'audit', enabled: boolean) {
  const result = useQuery({
    queryKey: ['merchant', appId, 'qrcode', version],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/qrcode', { params: { path: { appId }, query: { version } }, parseAs: 'blob', signal })),
    enabled,
    retry: false,
  });
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!result.data) return;
    const next = URL.createObjectURL(result.data);
    setUrl(next);
    return () => URL.revokeObjectURL(next);
  }, [result.data]);
  return { ...result, url };
}

export type UploadBody = Body<'/api/v1/merchants/{appId}/code', 'post'>;
export type MerchantAction = 'upload' | 'audit' | 'withdraw' | 'release' | 'rollback';

/** Every action but an upload takes no body (an audit's note is optional and the console sends none). */
const ACTION_PATH = {
  audit: '/api/v1/merchants/{appId}/audit',
  withdraw: '/api/v1/merchants/{appId}/audit/withdraw',
  release: '/api/v1/merchants/{appId}/release',
  rollback: '/api/v1/merchants/{appId}/rollback',
} as const satisfies Record<Exclude<MerchantAction, 'upload'>, PathWith<'post'>>;

function runAction(appId: string, action: MerchantAction, upload: UploadBody | undefined) {
  const params = { path: { appId } };
  if (action !== 'upload') return ok(api.POST(ACTION_PATH[action], { params }));
  if (!upload) throw new Error('an upload needs its body');
  return ok(api.POST('/api/v1/merchants/{appId}/code', { params, body: upload }));
}

export function useMerchantAction(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ action, body }: { action: MerchantAction; body?: UploadBody }) => runAction(appId, action, body),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}

export function useSaveServerDomains(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (domains: ServerDomains) => ok(api.POST('/api/v1/merchants/{appId}/domains/server', { params: { path: { appId } }, body: { action: 'set', ...domains } })),
    onSuccess: (saved) => client.setQueryData(['merchant', appId, 'server-domains'], saved),
  });
}

export function useSaveWebviewDomains(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (domains: string[]) => (await ok(api.POST('/api/v1/merchants/{appId}/domains/webview', { params: { path: { appId } }, body: { action: 'set', domains } }))).domains,
    onSuccess: (saved) => client.setQueryData(['merchant', appId, 'webview-domains'], saved),
  });
}

export function useApplyCapability(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ capability, reason }: { capability: CapabilityName; reason: string }) =>
      ok(api.POST('/api/v1/merchants/{appId}/capabilities/{capability}', { params: { path: { appId, capability } }, body: reason ? { reason } : {} })),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}

export function useRefreshCapability(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (capability: CapabilityName) => ok(api.GET('/api/v1/merchants/{appId}/capabilities/{capability}', { params: { path: { appId, capability } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}

export function useInvite() {
  return useMutation({ mutationFn: () => ok(api.POST('/api/v1/authorizations', { body: {} })) });
}
