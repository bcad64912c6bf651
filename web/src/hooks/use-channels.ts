import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiGet, apiSend } from '../api/client.ts';
import type { Channel, ChannelBody, OnboardingPlan, OnboardingPolicy, OnboardingStart } from '../api/types.ts';

/** GET /api/v1/channels: every release channel. */
export function useChannels() {
  return useQuery({ queryKey: ['channels'], queryFn: async ({ signal }) => (await apiGet<{ items: Channel[] }>('/api/v1/channels', signal)).items });
}

/** PUT /api/v1/channels/:name (baseVersion 0 creates; n replaces version n, else 409). */
export function usePutChannel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, body }: { name: string; body: ChannelBody }) => apiSend<Channel>('PUT', `/api/v1/channels/${encodeURIComponent(name)}`, body),
    onSettled: () => client.invalidateQueries({ queryKey: ['channels'] }),
  });
}

/** GET /api/v1/onboarding: the quick-activation policy. */
export function useOnboardingPolicy() {
  return useQuery({ queryKey: ['onboarding-policy'], queryFn: ({ signal }) => apiGet<OnboardingPolicy>('/api/v1/onboarding', signal) });
}

/** PUT /api/v1/onboarding (admin). */
export function usePutOnboardingPolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { enabled: boolean; channel: string; autoRelease: boolean | null }) => apiSend<OnboardingPolicy>('PUT', '/api/v1/onboarding', body),
    onSuccess: (saved) => client.setQueryData(['onboarding-policy'], saved),
  });
}

/** GET /api/v1/merchants/:appId/onboarding/plan: the dry run, asked for on demand (it reads the platform). */
export function useOnboardingPlan(appId: string, enabled: boolean) {
  return useQuery({
    queryKey: ['merchant', appId, 'onboarding-plan'],
    queryFn: ({ signal }) => apiGet<OnboardingPlan>(`/api/v1/merchants/${appId}/onboarding/plan`, signal),
    enabled,
    retry: false,
    staleTime: 0,
  });
}

/** POST /api/v1/merchants/:appId/onboarding/start (operator): onboard now; a failed onboarding starts again. */
export function useStartOnboarding(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => apiSend<OnboardingStart>('POST', `/api/v1/merchants/${appId}/onboarding/start`),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}
