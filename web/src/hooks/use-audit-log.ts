import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { apiGet, query } from '../api/client.ts';
import type { AuditLogEntry, Page } from '../api/types.ts';

export interface AuditLogParams {
  appId?: string;
  actor?: string;
  action?: string;
  cursor?: string;
  limit?: number;
}

export function useAuditLog(params: AuditLogParams) {
  return useQuery({
    queryKey: ['audit-log', params],
    queryFn: ({ signal }) => apiGet<Page<AuditLogEntry>>(`/api/v1/audit-log${query({ limit: 50, ...params })}`, signal),
    placeholderData: keepPreviousData,
  });
}
