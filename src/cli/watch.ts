/**
 * `rollout watch`: follows `GET /api/v1/rollouts/:id/events` (SSE) until `end`, reconnecting once after a
 * drop, and shows the progress: bars redrawn in place on a terminal, one line per change otherwise,
 * NDJSON with --json. Resolves to the exit code: 0 completed cleanly, 5 aborted, rolled back or with
 * failed/rejected targets, 130 interrupted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from './api-client.ts';
import { ApiError, EXIT, UnreachableError } from './errors.ts';
import type { Output } from './output.ts';
import { frame, progressLine, summary } from './progress-view.ts';
import type { RolloutEnd, RolloutWithProgress } from '../../web/src/api/shapes.ts';
import { readEvents } from '../../web/src/api/sse.ts';
import { failures } from './rollout-types.ts';

const RECONNECT_DELAY_MS = 1000;

interface View {
  progress(snapshot: RolloutWithProgress): void;
  end(status: string): void;
  note(text: string): void;
}

function terminalView(out: Output): View {
  let drawn = 0;
  let lines: string[] = [];
  let status = '';
  const fit = (line: string): string => {
    const columns = process.stdout.columns;
    return columns && [...line].length >= columns ? [...line].slice(0, columns - 1).join('') : line;
  };
  const draw = (): void => {
    const all = (status ? [...lines, status] : lines).map(fit);
    out.raw(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ''}${all.join('\n')}\n`);
    drawn = all.length;
  };
  return {
    progress: (snapshot) => {
      lines = frame(snapshot);
      status = '';
      draw();
    },
    end: () => undefined,
    note: (text) => {
      status = text;
      draw();
    },
  };
}

function lineView(out: Output): View {
  let last = '';
  return {
    progress: (snapshot) => {
      const line = progressLine(snapshot);
      if (line !== last) out.line(line);
      last = line;
    },
    end: () => undefined,
    note: (text) => out.note(text),
  };
}

function jsonView(out: Output): View {
  return {
    progress: (snapshot) => out.data({ event: 'progress', ...snapshot }, true),
    end: (status) => out.data({ event: 'end', status }, true),
    note: (text) => out.note(text),
  };
}

function parse<T>(data: string, what: string): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new ApiError(200, 'bad_response', `the event stream sent a ${what} event that is not JSON`);
  }
}

export async function watchRollout(api: ApiClient, out: Output, id: string): Promise<number> {
  const view = out.json ? jsonView(out) : out.tty ? terminalView(out) : lineView(out);
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  process.once('SIGINT', interrupt);
  let last: RolloutWithProgress | undefined;
  let endStatus: string | undefined;
  let connected = false;
  let reconnectLeft = 1;
  try {
    while (endStatus === undefined && !stop.signal.aborted) {
      let received = false;
      let reason = 'the stream ended before the rollout did';
      try {
        const body = await api.stream(`/api/v1/rollouts/${encodeURIComponent(id)}/events`, stop.signal);
        connected = true;
        for await (const message of readEvents(body)) {
          received = true;
          if (message.event === 'progress') {
            last = parse<RolloutWithProgress>(message.data, 'progress');
            view.progress(last);
          } else if (message.event === 'end') {
            // An `end` without a status (not this server's) falls back to the last snapshot's.
            endStatus = parse<Partial<RolloutEnd>>(message.data, 'end').status ?? last?.rollout.status ?? 'unknown';
            view.end(endStatus);
            break;
          }
        }
      } catch (error) {
        if (stop.signal.aborted) break;
        // Never connected, or the server answered with an error: nothing to retry.
        if (!connected || error instanceof ApiError) throw error;
        reason = error instanceof UnreachableError ? error.message : `connection lost: ${(error as Error).message}`;
      }
      if (endStatus !== undefined || stop.signal.aborted) break;
      if (received) reconnectLeft = 1;
      if (reconnectLeft === 0) throw new UnreachableError(`lost the event stream of rollout ${id} (${reason})`);
      reconnectLeft -= 1;
      view.note(`${reason}; reconnecting…`);
      await sleep(RECONNECT_DELAY_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', interrupt);
  }
  if (!out.json && last) for (const line of summary(last)) out.line(line);
  if (endStatus === undefined) {
    out.note('interrupted (the rollout goes on on the server)');
    return 130;
  }
  const clean = endStatus === 'completed' && (last === undefined || failures(last.progress.byState) === 0);
  return clean ? EXIT.ok : EXIT.watchFailed;
}
