import { useI18n } from '../i18n/index.tsx';

const TONE: Record<string, string> = {
  authorized: 'ok', revoked: 'muted', passed: 'ok', released: 'ok', completed: 'ok', approved: 'ok',
  running: 'info', auditing: 'info', applying: 'info', uploaded: 'info', audit_passed: 'info', rolling_back: 'warn',
  paused: 'warn', withdrawn: 'warn', skipped: 'muted', pending: 'muted', not_applied: 'muted',
  rejected: 'bad', failed: 'bad', aborted: 'bad', rolled_back: 'warn', error: 'bad', ok: 'ok',
};

/** A state name, translated when the catalog knows it (`state.<name>`), coloured by its tone. */
export function Badge({ state }: { state: string }) {
  const { t, has } = useI18n();
  const key = `state.${state}`;
  const text = has(key) ? t(key) : state;
  return <span className={`badge ${TONE[state] ?? 'muted'}`}>{text}</span>;
}
