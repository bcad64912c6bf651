import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { apiBlob, apiGet, apiSend, query } from '../api/client.ts';
import type { Capability, CapabilityName, Merchant, MerchantDetail, Page, ServerDomains, Versions } from '../api/types.ts';

export interface MerchantListParams {
  q?: string;
  status?: string;
  auditState?: string;
  auditVersion?: string;
  sort?: string;
  order?: string;
  cursor?: string;
  limit?: number;
  /** `stuck`: merchants whose onboarding is blocked, failed or slow; combines with no other filter or sort. */
  onboarding?: 'stuck';
}

export function useMerchantPage(params: MerchantListParams) {
  return useQuery({
    queryKey: ['merchants', params],
    queryFn: ({ signal }) => apiGet<Page<Merchant>>(`/api/v1/merchants${query({ limit: 50, ...params, total: true })}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** How many merchants match a filter (the dashboard's counts). */
export function useMerchantCount(filter: Record<string, string>) {
  return useQuery({
    queryKey: ['merchants', 'count', filter],
    queryFn: async ({ signal }) => (await apiGet<Page<Merchant>>(`/api/v1/merchants${query({ ...filter, limit: 1, total: true })}`, signal)).total ?? 0,
    // Counts move with every authorization and audit: always asked again, and every 15 s on screen.
    staleTime: 0,
    refetchInterval: 15_000,
  });
}

export function useMerchant(appId: string) {
  return useQuery({ queryKey: ['merchant', appId], queryFn: ({ signal }) => apiGet<MerchantDetail>(`/api/v1/merchants/${appId}`, signal) });
}

export function useVersions(appId: string) {
  return useQuery({ queryKey: ['merchant', appId, 'versions'], queryFn: ({ signal }) => apiGet<Versions>(`/api/v1/merchants/${appId}/versions`, signal), retry: false });
}

export function useServerDomains(appId: string) {
  return useQuery({ queryKey: ['merchant', appId, 'server-domains'], queryFn: ({ signal }) => apiGet<ServerDomains>(`/api/v1/merchants/${appId}/domains/server`, signal), retry: false });
}

export function useWebviewDomains(appId: string) {
  return useQuery({
    queryKey: ['merchant', appId, 'webview-domains'],
    queryFn: async ({ signal }) => (await apiGet<{ domains: string[] }>(`/api/v1/merchants/${appId}/domains/webview`, signal)).domains,
    retry: false,
  });
}

/** The experience QR code, fetched with the key and shown through a blob URL (revoked when replaced). */
export function useQrCode(appId: string, version: 'latest' | 'audit', enabled: boolean) {
  const result = useQuery({
    queryKey: ['merchant', appId, 'qrcode', version],
    queryFn: ({ signal }) => apiBlob(`/api/v1/merchants/${appId}/qrcode?version=${version}`, signal),
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

export type MerchantAction = 'upload' | 'audit' | 'withdraw' | 'release' | 'rollback';

const ACTION_PATH: Record<MerchantAction, string> = { upload: 'code', audit: 'audit', withdraw: 'audit/withdraw', release: 'release', rollback: 'rollback' };

export function useMerchantAction(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ action, body }: { action: MerchantAction; body?: unknown }) => apiSend<{ ok: true }>('POST', `/api/v1/merchants/${appId}/${ACTION_PATH[action]}`, body),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}

export function useSaveServerDomains(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (domains: ServerDomains) => apiSend<ServerDomains>('POST', `/api/v1/merchants/${appId}/domains/server`, { action: 'set', ...domains }),
    onSuccess: (saved) => client.setQueryData(['merchant', appId, 'server-domains'], saved),
  });
}

export function useSaveWebviewDomains(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (domains: string[]) => (await apiSend<{ domains: string[] }>('POST', `/api/v1/merchants/${appId}/domains/webview`, { action: 'set', domains })).domains,
    onSuccess: (saved) => client.setQueryData(['merchant', appId, 'webview-domains'], saved),
  });
}

export function useApplyCapability(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ capability, reason }: { capability: CapabilityName; reason: string }) =>
      apiSend<Capability>('POST', `/api/v1/merchants/${appId}/capabilities/${capability}`, reason ? { reason } : {}),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}

export function useRefreshCapability(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (capability: CapabilityName) => apiGet<Capability>(`/api/v1/merchants/${appId}/capabilities/${capability}`),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}

export function useInvite() {
  return useMutation({ mutationFn: () => apiSend<{ url: string; expiresAt: number }>('POST', '/api/v1/authorizations', {}) });
}
