import { useMutation } from '@tanstack/react-query';
import { apiSend } from '../api/client.ts';
import type { DomainPolicyBody } from '../api/types.ts';

/** POST /api/v1/domain-policies (issue #5): a drift diff on dryRun, a rollout on apply. */
export function useDomainPolicy() {
  return useMutation({ mutationFn: (body: DomainPolicyBody) => apiSend<Record<string, unknown>>('POST', '/api/v1/domain-policies', body) });
}
