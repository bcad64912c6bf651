import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ok, streamEvents } from '../api/client.ts';
import type { NewRollout, Query, RolloutStatus, RolloutWithProgress } from '../api/shapes.ts';

/** The statuses after which a rollout's event stream ends. */
const FINISHED: ReadonlySet<RolloutStatus> = new Set<RolloutStatus>(['completed', 'aborted', 'rolled_back']);

export function useRollouts(params: Query<'/api/v1/rollouts'> = {}) {
  return useQuery({
    queryKey: ['rollouts', params],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/rollouts', { params: { query: { limit: 50, ...params } }, signal })),
    placeholderData: keepPreviousData,
  });
}

export function useRollout(id: string) {
  return useQuery({ queryKey: ['rollout', id], queryFn: ({ signal }) => ok(api.GET('/api/v1/rollouts/{id}', { params: { path: { id } }, signal })) });
}

export function useRolloutTargets(id: string, params: Pick<Query<'/api/v1/rollouts/{id}/targets'>, 'state' | 'cursor'>) {
  return useQuery({
    queryKey: ['rollout', id, 'targets', params],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/rollouts/{id}/targets', { params: { path: { id }, query: { limit: 100, ...params } }, signal })),
    placeholderData: keepPreviousData,
  });
}

/**
 * Live progress: the SSE stream's `progress` snapshots go straight into the rollout's query; reconnects
 * after a dropped stream until the rollout is finished. Returns whether the stream is connected.
 */
export function useRolloutEvents(id: string, status: RolloutStatus | undefined): boolean {
  const client = useQueryClient();
  const [live, setLive] = useState(false);
  const finished = status !== undefined && FINISHED.has(status);
  useEffect(() => {
    if (finished) return;
    const controller = new AbortController();
    void (async () => {
      for (let attempt = 0; !controller.signal.aborted; attempt++) {
        try {
          for await (const event of streamEvents(id, controller.signal)) {
            setLive(true);
            if (event.event === 'progress') client.setQueryData(['rollout', id], JSON.parse(event.data) as RolloutWithProgress);
            if (event.event === 'end') {
              await client.invalidateQueries({ queryKey: ['rollout', id] });
              return;
            }
            void client.invalidateQueries({ queryKey: ['rollout', id, 'targets'] });
          }
        } catch {
          // dropped: try again below
        }
        setLive(false);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** attempt, 10_000)));
      }
    })();
    return () => {
      controller.abort();
      setLive(false);
    };
  }, [id, finished, client]);
  return live;
}

export function useCreateRollout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NewRollout) => ok(api.POST('/api/v1/rollouts', { body })),
    onSuccess: (created) => {
      client.setQueryData(['rollout', created.rollout.id], created);
      void client.invalidateQueries({ queryKey: ['rollouts'] });
    },
  });
}

export type RolloutCommand = 'pause' | 'resume' | 'abort' | 'rollback' | 'release';

export function useRolloutCommand(id: string) {
  const client = useQueryClient();
  return useMutation({
    // Each command is its own path (POST /api/v1/rollouts/:id/<command>, an empty body), all answering the rollout.
    mutationFn: (command: RolloutCommand) => ok(api.POST(`/api/v1/rollouts/{id}/${command}`, { params: { path: { id } }, body: {} })),
    onSuccess: (answer) => client.setQueryData(['rollout', id], answer),
    onSettled: () => client.invalidateQueries({ queryKey: ['rollouts'] }),
  });
}
