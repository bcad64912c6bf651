import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { AuditLogQuery } from '../api/shapes.ts';

export type AuditLogParams = Partial<Pick<AuditLogQuery, 'appId' | 'actor' | 'action' | 'cursor' | 'limit'>>;

export function useAuditLog(params: AuditLogParams) {
  return useQuery({
    queryKey: ['audit-log', params],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/audit-log', { params: { query: { limit: 50, ...params } }, signal })),
    placeholderData: keepPreviousData,
  });
}
