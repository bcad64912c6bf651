import { useMutation } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { DomainDriftReport, DomainPolicyBody, RolloutWithProgress } from '../api/shapes.ts';

type PolicyRequest = Omit<DomainPolicyBody, 'dryRun'>;

/** POST /api/v1/domain-policies with dryRun: one page of the drift report (the 200 answer). */
export function useDomainDrift() {
  return useMutation({
    mutationFn: async (body: PolicyRequest) => (await ok(api.POST('/api/v1/domain-policies', { body: { ...body, dryRun: true } }))) as DomainDriftReport,
  });
}

/** POST /api/v1/domain-policies to apply: a rollout of kind `domains` (the 201 answer). */
export function useApplyDomainPolicy() {
  return useMutation({
    mutationFn: async (body: PolicyRequest) => (await ok(api.POST('/api/v1/domain-policies', { body: { ...body, dryRun: false } }))) as RolloutWithProgress,
  });
}
