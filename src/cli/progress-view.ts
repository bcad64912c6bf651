/** Text for rollout progress: bars per wave (terminal), one line per change (logs), the final summary. */
import type { RolloutWithProgress } from '../../web/src/api/shapes.ts';
import { count, type Counts, TERMINAL_STATES } from './rollout-types.ts';

const done = (counts: Counts): number => TERMINAL_STATES.reduce((sum, state) => sum + count(counts, state), 0);

export function bar(value: number, size: number, width = 10): string {
  const filled = size === 0 ? width : Math.min(width, Math.round((value / size) * width));
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** `released 5 · rejected 1 · failed 0`, then whatever else is non-zero. */
export function countsText(counts: Counts): string {
  const parts = [`released ${count(counts, 'released')}`, `rejected ${count(counts, 'rejected')}`, `failed ${count(counts, 'failed')}`];
  // A domain policy's merchants end `applied`.
  if (count(counts, 'applied') > 0) parts.unshift(`applied ${count(counts, 'applied')}`);
  const inFlight = count(counts, 'uploaded') + count(counts, 'auditing');
  if (inFlight > 0) parts.push(`in flight ${inFlight}`);
  if (count(counts, 'audit_passed') > 0) parts.push(`awaiting release ${count(counts, 'audit_passed')}`);
  if (count(counts, 'skipped') > 0) parts.push(`skipped ${count(counts, 'skipped')}`);
  if (count(counts, 'rolled_back') > 0) parts.push(`rolled back ${count(counts, 'rolled_back')}`);
  return parts.join(' · ');
}

function statusText({ rollout }: RolloutWithProgress): string {
  return rollout.status === 'paused' && rollout.pauseReason ? `paused (${rollout.pauseReason})` : rollout.status;
}

export function header(snapshot: RolloutWithProgress): string {
  const { rollout } = snapshot;
  const what = rollout.kind === 'domains' ? 'domain policy' : `template ${rollout.templateId} v${rollout.userVersion}`;
  return `rollout ${rollout.id} · ${what} · ${statusText(snapshot)} · wave ${rollout.currentWave}/${rollout.waves.length}`;
}

/** The terminal frame: a header, then `wave 1 [██████░░░░] 6/10 released 5 · rejected 1 · failed 0` per wave. */
export function frame(snapshot: RolloutWithProgress): string[] {
  return [
    header(snapshot),
    ...snapshot.progress.byWave.map((wave) => `wave ${wave.wave} ${bar(done(wave.byState), wave.size)} ${done(wave.byState)}/${wave.size} ${countsText(wave.byState)}`),
  ];
}

/** One line for logs: status, the current wave, the totals. */
export function progressLine(snapshot: RolloutWithProgress): string {
  const { rollout, progress } = snapshot;
  const wave = progress.byWave.find((entry) => entry.wave === rollout.currentWave);
  const waveText = wave ? `wave ${wave.wave}/${progress.byWave.length} ${done(wave.byState)}/${wave.size}` : `wave ${rollout.currentWave}/${progress.byWave.length}`;
  return `${rollout.id} ${statusText(snapshot)} · ${waveText} · total ${done(progress.byState)}/${progress.total} · ${countsText(progress.byState)}`;
}

export function summary(snapshot: RolloutWithProgress): string[] {
  const { rollout, progress } = snapshot;
  const lines = [`rollout ${rollout.id} ${statusText(snapshot)}: ${progress.total} merchants · ${countsText(progress.byState)}`];
  for (const state of ['failed', 'rejected'] as const) {
    if (count(progress.byState, state) > 0) lines.push(`  ${state}: ks-isv rollout targets ${rollout.id} --state ${state}`);
  }
  return lines;
}
