import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { ChannelBody, OnboardingPolicyBody } from '../api/shapes.ts';

/** GET /api/v1/channels: every release channel. */
export function useChannels() {
  return useQuery({ queryKey: ['channels'], queryFn: async ({ signal }) => (await ok(api.GET('/api/v1/channels', { signal }))).items });
}

/** PUT /api/v1/channels/:name (baseVersion 0 creates; n replaces version n, else 409). */
export function usePutChannel() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, body }: { name: string; body: ChannelBody }) => ok(api.PUT('/api/v1/channels/{name}', { params: { path: { name } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['channels'] }),
  });
}

/** GET /api/v1/onboarding: the quick-activation policy. */
export function useOnboardingPolicy() {
  return useQuery({ queryKey: ['onboarding-policy'], queryFn: ({ signal }) => ok(api.GET('/api/v1/onboarding', { signal })) });
}

/** PUT /api/v1/onboarding (admin). */
export function usePutOnboardingPolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: OnboardingPolicyBody) => ok(api.PUT('/api/v1/onboarding', { body })),
    onSuccess: (saved) => client.setQueryData(['onboarding-policy'], saved),
  });
}

/** GET /api/v1/merchants/:appId/onboarding/plan: the dry run, asked for on demand (it reads the platform). */
export function useOnboardingPlan(appId: string, enabled: boolean) {
  return useQuery({
    queryKey: ['merchant', appId, 'onboarding-plan'],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/merchants/{appId}/onboarding/plan', { params: { path: { appId } }, signal })),
    enabled,
    retry: false,
    staleTime: 0,
  });
}

/** POST /api/v1/merchants/:appId/onboarding/start (operator): onboard now; a failed onboarding starts again. */
export function useStartOnboarding(appId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => ok(api.POST('/api/v1/merchants/{appId}/onboarding/start', { params: { path: { appId } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ['merchant', appId] }),
  });
}
