import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../api/client.ts';
import type { AuditLogEntry, MerchantQuery } from '../api/shapes.ts';
import { Badge } from '../components/badge.tsx';
import { rolloutTitle } from '../components/rollout-title.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { useAuditLog } from '../hooks/use-audit-log.ts';
import { useMerchantCount } from '../hooks/use-merchants.ts';
import { useRollout, useRollouts } from '../hooks/use-rollouts.ts';
import { useI18n, type MessageKey } from '../i18n/index.tsx';
import { Link, merchantPath, rolloutPath } from '../router.tsx';

function Count({ label, filter }: { label: MessageKey; filter: Pick<MerchantQuery, 'status' | 'auditState'> }) {
  const { t, number } = useI18n();
  const count = useMerchantCount(filter);
  return (
    <div className="stat">
      <span className="stat-value" data-testid={`count-${label}`}>
        {count.data === undefined ? '…' : number(count.data)}
      </span>
      <span className="stat-label">{t(label)}</span>
    </div>
  );
}

function InFlight({ id }: { id: string }) {
  const { t } = useI18n();
  const { data } = useRollout(id);
  if (!data) return null;
  const { rollout, progress } = data;
  return (
    <li>
      <Link to={rolloutPath(id)}>
        {rolloutTitle(t, rollout)}
      </Link>{' '}
      <Badge state={rollout.status} />
      <ProgressBar byState={progress.byState} size={progress.total} label={t('rollouts.overall')} />
    </li>
  );
}

export function DashboardPage() {
  const { t, time } = useI18n();
  const running = useRollouts({ status: 'running', limit: 10 });
  const paused = useRollouts({ status: 'paused', limit: 10 });
  const audits = useQuery({
    queryKey: ['push-events', 'auditResult'],
    queryFn: ({ signal }) => ok(api.GET('/api/v1/push-events', { params: { query: { eventType: 'auditResult', limit: 10 } }, signal })),
  });
  const log = useAuditLog({ limit: 200 });
  const failures = (log.data?.items ?? []).filter((entry: AuditLogEntry) => entry.result !== 'ok').slice(0, 10);
  const inFlight = [...(running.data?.items ?? []), ...(paused.data?.items ?? [])];

  return (
    <section>
      <h1>{t('dashboard.title')}</h1>
      <h2>{t('dashboard.merchants')}</h2>
      <div className="stats">
        <Count label="dashboard.authorized" filter={{ status: 'authorized' }} />
        <Count label="dashboard.revoked" filter={{ status: 'revoked' }} />
        <Count label="dashboard.auditing" filter={{ auditState: 'auditing' }} />
        <Count label="dashboard.rejected" filter={{ auditState: 'rejected' }} />
        <Count label="dashboard.neverAudited" filter={{ auditState: 'none', status: 'authorized' }} />
      </div>

      <div className="columns">
        <div>
          <h2>{t('dashboard.inFlight')}</h2>
          <ErrorMessage error={running.error} />
          {inFlight.length === 0 ? <p className="muted">{t('dashboard.noneInFlight')}</p> : <ul className="plain">{inFlight.map((r) => <InFlight key={r.id} id={r.id} />)}</ul>}
        </div>
        <div>
          <h2>{t('dashboard.auditResults')}</h2>
          <ErrorMessage error={audits.error} />
          {audits.data?.items.length === 0 && <p className="muted">{t('common.none')}</p>}
          <ul className="plain">
            {audits.data?.items.map((event) => (
              <li key={event.msgId}>
                {event.appId ? <Link to={merchantPath(event.appId)}>{event.appId}</Link> : '—'}{' '}
                {typeof event.summary.userVersion === 'string' && event.summary.userVersion}{' '}
                {typeof event.summary.passed === 'boolean' && <Badge state={event.summary.passed ? 'passed' : 'rejected'} />}{' '}
                {typeof event.summary.reason === 'string' && <span className="muted">{event.summary.reason}</span>}{' '}
                <span className="muted small">{time(event.receivedAt)}</span>
              </li>
            ))}
          </ul>
        </div>
      </div>

      <h2>{t('dashboard.failures')}</h2>
      <ErrorMessage error={log.error} />
      {failures.length === 0 ? (
        <p className="muted">{t('dashboard.noFailures')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('audit.at')}</th>
              <th scope="col">{t('audit.action')}</th>
              <th scope="col">{t('audit.merchant')}</th>
              <th scope="col">{t('audit.error')}</th>
            </tr>
          </thead>
          <tbody>
            {failures.map((entry) => (
              <tr key={entry.id}>
                <td>{time(entry.at)}</td>
                <td>{entry.action}</td>
                <td>{entry.appId ? <Link to={merchantPath(entry.appId)}>{entry.appId}</Link> : '—'}</td>
                <td>{entry.errorCode}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
