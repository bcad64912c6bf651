/** A stacked bar of target states (released, in flight, failed…), labelled for screen readers. */
import { useI18n, type MessageKey } from '../i18n/index.tsx';

const GROUPS: { key: MessageKey; states: string[]; className: string }[] = [
  { key: 'progress.done', states: ['released', 'applied', 'rolled_back'], className: 'bar-done' },
  { key: 'progress.inFlight', states: ['uploaded', 'auditing', 'audit_passed'], className: 'bar-flight' },
  { key: 'progress.failed', states: ['failed', 'rejected'], className: 'bar-failed' },
  { key: 'progress.skipped', states: ['skipped'], className: 'bar-skipped' },
];

export function ProgressBar({ byState, size, label }: { byState: Record<string, number>; size: number; label: string }) {
  const { t } = useI18n();
  const parts = GROUPS.map((group) => ({ ...group, count: group.states.reduce((sum, state) => sum + (byState[state] ?? 0), 0) }));
  const done = parts[0]!.count + parts[2]!.count + parts[3]!.count;
  const summary = parts.filter((part) => part.count > 0).map((part) => `${t(part.key)} ${part.count}`).join(' · ') || t('progress.pending');
  return (
    <div className="progress">
      <div className="progress-label">
        <span>{label}</span>
        <span className="muted">
          {done}/{size} · {summary}
        </span>
      </div>
      <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={size} aria-valuenow={done} aria-valuetext={summary}>
        {parts.map((part) =>
          part.count > 0 ? <span key={part.key} className={part.className} style={{ width: `${(100 * part.count) / Math.max(size, 1)}%` }} /> : null,
        )}
      </div>
    </div>
  );
}
