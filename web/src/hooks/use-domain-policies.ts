import { useMutation } from '@tanstack/react-query';
import { apiSend } from '../api/client.ts';
import type { DomainDriftReport, DomainPolicyBody, RolloutWithProgress } from '../api/types.ts';

/** POST /api/v1/domain-policies with dryRun: one page of the drift report. */
export function useDomainDrift() {
  return useMutation({ mutationFn: (body: DomainPolicyBody) => apiSend<DomainDriftReport>('POST', '/api/v1/domain-policies', { ...body, dryRun: true }) });
}

/** POST /api/v1/domain-policies to apply: a rollout of kind `domains`. */
export function useApplyDomainPolicy() {
  return useMutation({ mutationFn: (body: DomainPolicyBody) => apiSend<RolloutWithProgress>('POST', '/api/v1/domain-policies', { ...body, dryRun: false }) });
}
